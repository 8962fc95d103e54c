package io.arbiter.jdbc;

import io.arbiter.ArbiterException;
import io.arbiter.ClusterStatus;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.StoreUnavailableException;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.spi.MemberInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster storage SPI on PostgreSQL and MariaDB/MySQL. Get one from {@link
 * JdbcArbiter#clusterStore()}.
 *
 * <p>Each method is a short transaction (or one auto-commit statement) whose SQL lives with its
 * feature: {@link MemberSql} (join, heartbeat, expiry, drain, stop), {@link ServiceSql} (service
 * definitions, moves), {@link ClaimSql} (claims, releases, tokens and why a claim is safe), {@link
 * FactsSql} (what the balancer reads) and {@link StatusSql} (the operator's view); what differs
 * between the databases is behind {@link Dialect}. The heartbeat runs on a connection of its own
 * ({@link HeartbeatConnection}).
 */
public final class JdbcClusterStore implements ClusterStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcClusterStore.class);

  private final DataSource dataSource;
  private final HeartbeatConnection heartbeatConnection;
  private final Dialect dialect;
  private final boolean createSchema;
  private final String database;
  private final Duration leaseTtl;
  private final List<AutoCloseable> owned;
  private final Transactions transactions;
  private final SchemaMigrations schema;
  private final MemberSql members;
  private final ServiceSql services;
  private final ClaimSql claims;
  private final FactsSql facts;
  private final StatusSql status;
  private final ChangeEpoch epoch;
  private final DatabaseGeneration generation;
  private final AtomicBoolean warnedTtl = new AtomicBoolean();

  /** The lease TTL of the last member that joined through this store; null before any. */
  private volatile Duration joinedTtl;

  /**
   * @param leaseTtl the TTL the arbiter was built for, which a joining member should use; null: not
   *     checked
   * @param owned closed with the store, in order
   */
  JdbcClusterStore(
      DataSource dataSource,
      HeartbeatConnection heartbeatConnection,
      Dialect dialect,
      boolean createSchema,
      String database,
      Duration leaseTtl,
      List<AutoCloseable> owned) {
    this.dataSource = dataSource;
    this.heartbeatConnection = heartbeatConnection;
    this.dialect = dialect;
    this.createSchema = createSchema;
    this.database = database;
    this.leaseTtl = leaseTtl;
    this.owned = List.copyOf(owned);
    this.transactions = new Transactions(dataSource, database);
    this.schema = new SchemaMigrations(dialect, database);
    this.epoch = new ChangeEpoch(dialect);
    this.generation = new DatabaseGeneration(dialect, database);
    this.members = new MemberSql(dialect, epoch, generation);
    this.services = new ServiceSql(dialect, epoch);
    this.claims = new ClaimSql(dialect, epoch, generation);
    this.facts = new FactsSql(dialect);
    this.status = new StatusSql(dialect);
  }

  public Dialect dialect() {
    return dialect;
  }

  /** The main pool (not the heartbeat's). */
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void initialize() {
    schema.ensure(dataSource, createSchema);
  }

  @Override
  public MemberId join(String name, Duration ttl, Optional<MemberId> previous, MemberInfo info) {
    checkTtl(ttl);
    joinedTtl = ttl;
    return transactions.inTransaction(
        "joining as " + name,
        c -> {
          DatabaseGeneration.Reading g = generation.read(c);
          MemberId joined =
              members.join(
                  c, name, ttl, previous, info, (g.generation() - 1) * DatabaseGeneration.STRIDE);
          generation.joined(joined, g, ttl);
          return joined;
        });
  }

  @Override
  public Heartbeat heartbeat(MemberId member, Duration ttl) {
    MemberSql.Renewal r =
        heartbeatConnection.run(
            "renewing the lease of " + member, c -> members.heartbeat(c, member, ttl));
    Heartbeat h = r.heartbeat();
    if (h.renewed() && !generation.renewalValid(member, r.generation(), ttl)) {
      return new Heartbeat(
          false, h.changeEpoch(), h.leases(), h.eventHead(), h.ownRenewalAgeMillis());
    }
    return h;
  }

  /**
   * The lease TTL members joined with through this store, if one has: what bounds fenced writes.
   */
  Optional<Duration> memberLeaseTtl() {
    return Optional.ofNullable(joinedTtl);
  }

  /** The pools' timeouts were set from one TTL; a member renewing with another is told once. */
  private void checkTtl(Duration ttl) {
    if (leaseTtl != null && !leaseTtl.equals(ttl) && warnedTtl.compareAndSet(false, true)) {
      log.warn(
          "a member joins {} with a lease TTL of {} ms, but the store's pools were sized for {} ms:"
              + " give the cluster's ClusterConfig to JdbcArbiter.builder(...).clusterConfig(...)",
          database,
          ttl.toMillis(),
          leaseTtl.toMillis());
    }
  }

  @Override
  public void publishPeerView(MemberId member, String view) {
    transactions.inAutoCommit(
        "publishing the peer view of " + member, c -> members.publishPeerView(c, member, view));
  }

  @Override
  public boolean pushesChanges() {
    return dialect.supportsPushNotification();
  }

  @Override
  public void leave(MemberId member) {
    transactions.inTransaction(
        "leaving as " + member,
        c -> {
          if (claims.lockOwned(c, member)) {
            epoch.signal(c); // after the rows, before the change: see ChangeEpoch
            claims.releaseAll(c, member);
          }
          members.markStopped(c, member);
          return null;
        });
  }

  @Override
  public void define(Collection<ServiceSpec> specs) {
    if (specs.isEmpty()) {
      return;
    }
    transactions.inTransaction(
        "registering services",
        c -> {
          services.define(c, specs);
          return null;
        });
  }

  @Override
  public ClusterFacts facts() {
    return factsSince(-1);
  }

  @Override
  public ClusterFacts factsSince(long sinceEpoch) {
    return transactions.inTransaction(
        "reading the cluster for the balancer", c -> facts.read(c, sinceEpoch));
  }

  @Override
  public int release(Collection<FencingToken> tokens) {
    if (tokens.isEmpty()) {
      return 0;
    }
    List<FencingToken> all = List.copyOf(tokens);
    return transactions.inTransaction(
        "releasing " + all.size() + " service(s)", c -> claims.release(c, all));
  }

  @Override
  public boolean setDraining(String member, boolean draining) {
    return transactions.inTransaction(
        (draining ? "draining " : "undraining ") + member,
        c -> members.setDraining(c, member, draining));
  }

  @Override
  public boolean setMoveTarget(String service, Optional<String> member) {
    return transactions.inTransaction(
        "moving " + service, c -> services.setMoveTarget(c, service, member));
  }

  @Override
  public int expireOverdueMembers() {
    return transactions.inTransaction("expiring overdue members", members::expireOverdue);
  }

  @Override
  public Collection<String> claimableServices() {
    return transactions.inTransaction("listing claimable services", claims::claimable);
  }

  @Override
  public List<FencingToken> claim(MemberId member, Collection<String> services) {
    if (generation.claimsHeld()) {
      throw new StoreUnavailableException(
          "no claims on "
              + database
              + " for one lease after it failed over: masters of the old timeline may still run"
              + " what its lost commits gave them",
          null);
    }
    List<FencingToken> won = new ArrayList<>();
    List<String> all = List.copyOf(services);
    for (int from = 0; from < all.size(); from += ClaimSql.MAX_BATCH) {
      List<String> batch = all.subList(from, Math.min(all.size(), from + ClaimSql.MAX_BATCH));
      won.addAll(
          transactions.inTransaction(
              "claiming " + batch.size() + " service(s) for " + member,
              c -> claims.claimBatch(c, member, generation.joinedOn(member), batch)));
    }
    return won;
  }

  @Override
  public boolean release(FencingToken token) {
    return transactions.inTransaction("releasing " + token, c -> claims.release(c, token));
  }

  @Override
  public boolean releaseFailedStart(FencingToken token) {
    return transactions.inTransaction(
        "releasing " + token + " after a failed start", c -> claims.releaseFailedStart(c, token));
  }

  @Override
  public Optional<FencingToken> currentGrant(String service) {
    return transactions.inTransaction(
        "reading the grant of " + service, c -> claims.currentGrant(c, service));
  }

  @Override
  public ClusterStatus status() {
    return transactions.inTransaction("reading the cluster status", status::read);
  }

  @Override
  public AutoCloseable subscribe(Runnable onChange, Duration pollInterval) {
    return subscribe(onChange, null, pollInterval);
  }

  @Override
  public boolean pollReportsEventHead() {
    return !dialect.supportsPushNotification();
  }

  @Override
  public AutoCloseable subscribe(
      Runnable onChange, EventHeadListener onEventHead, Duration pollInterval) {
    ChangeWatcher watcher =
        dialect.supportsPushNotification()
            ? ChangeWatcher.listening(dataSource, onChange)
            : ChangeWatcher.polling(dataSource, onChange, onEventHead, pollInterval);
    watcher.start();
    return watcher;
  }

  @Override
  public void close() {
    heartbeatConnection.close();
    for (AutoCloseable closeable : owned) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new ArbiterException("closing the connection pools of " + database, e);
      }
    }
  }
}
