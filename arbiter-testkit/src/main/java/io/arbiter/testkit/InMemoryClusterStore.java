package io.arbiter.testkit;

import io.arbiter.ClusterStatus;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.StoreReadOnlyException;
import io.arbiter.StoreUnavailableException;
import io.arbiter.balance.MemberSpec;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.spi.MemberInfo;
import io.arbiter.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The cluster storage SPI in memory, for tests: the semantics of the SQL store in arbiter-jdbc, on
 * a clock the test moves by hand and with faults the test switches on, so that the engine's tests
 * run in milliseconds and make a lease run out without sleeping.
 *
 * <p>One instance is one <em>connection</em> to an in-memory database; {@link #connect()} opens
 * another to the same database. Give each master its own: they share every row and the clock, but
 * each has its own {@link #fault(Fault) fault switch} and its own subscriptions, so a test can cut
 * one master off while the others go on.
 *
 * <pre>{@code
 * ManualTicker clock = new ManualTicker();
 * InMemoryClusterStore database = new InMemoryClusterStore(clock);
 * Cluster a = Cluster.builder(database.connect(), config("a")).ticker(clock)...build();
 * }</pre>
 *
 * <p>Every method is one transaction under one lock, and keeps the invariants of {@link
 * ClusterStore}, as the SQL store does with row locks:
 *
 * <ul>
 *   <li>Leases are judged by this store's clock (the {@link Ticker} it was given), never the
 *       caller's.
 *   <li>An incarnation, once expired or stopped, is never live again; a join gets a higher one.
 *   <li>A service is claimable only on positive evidence: no owner, or an owner whose member row
 *       shows a newer incarnation or a state other than ACTIVE. Expiry is the explicit step ({@link
 *       #expireOverdueMembers()}) that records that evidence for a lease that ran out.
 *   <li>Every grant increments the service's token; tokens are never reused.
 *   <li>Every change moves the change epoch once, and stamps the service rows it changes with it,
 *       so {@link #factsSince(long)} returns exactly the rows changed after an epoch; subscribers
 *       are called after every change (a push, like PostgreSQL's NOTIFY).
 * </ul>
 */
public final class InMemoryClusterStore implements ClusterStore {
  /** A call that hangs ({@link Fault#HANG}) fails after this long, like a socket timeout. */
  public static final Duration HANG_LIMIT = Duration.ofSeconds(5);

  /** What a test can do to one connection, as {@link FaultProxy} does to a real one. */
  public enum Fault {
    /** Calls reach the database. */
    NONE,
    /** Every call fails at once with {@link StoreUnavailableException}: a cut database. */
    UNAVAILABLE,
    /**
     * Every call waits, as on a network partition: until the fault is lifted (then it goes through,
     * as TCP retransmission would), or {@link #HANG_LIMIT} has passed (then it fails). Pushes are
     * lost meanwhile.
     */
    HANG,
    /**
     * Every call fails with {@link StoreMisconfiguredException} ({@link
     * StoreMisconfiguredException.Problem#CREDENTIALS}): a database that answers but refuses this
     * master for good, which no retry fixes.
     */
    REFUSED,
    /**
     * Every call fails with {@link StoreReadOnlyException}, as on a read-only database (a hot
     * standby, a primary demoted by a failover): it answers but accepts no writes, until the fault
     * is lifted.
     */
    READ_ONLY
  }

  private final Database db;
  private final List<Runnable> subscribers = new CopyOnWriteArrayList<>();
  private final Object faultLock = new Object();
  private Fault fault = Fault.NONE;
  private boolean closed;
  private final List<OneShot> oneShots = new CopyOnWriteArrayList<>();

  /** A new, empty database on the system's monotonic clock, and a connection to it. */
  public InMemoryClusterStore() {
    this(Ticker.system());
  }

  /**
   * A new, empty database whose clock is {@code clock}, and a connection to it. Leases are judged
   * by this clock only: a test that moves it makes leases run out.
   */
  public InMemoryClusterStore(Ticker clock) {
    this(new Database(clock));
  }

  private InMemoryClusterStore(Database db) {
    this.db = db;
    db.connections.add(this);
  }

  /** Another connection to the same database, with its own fault switch and subscriptions. */
  public InMemoryClusterStore connect() {
    return new InMemoryClusterStore(db);
  }

  /** Switches a fault on or off for this connection only. */
  public InMemoryClusterStore fault(Fault fault) {
    synchronized (faultLock) {
      this.fault = fault;
      faultLock.notifyAll();
    }
    return this;
  }

  /**
   * Steps the database's clock forward by {@code step}, and only the database's: as an NTP
   * correction or an operator setting the clock on the database's host does. The masters' own
   * clocks go on as before, so every lease looks {@code step} older to the database at once.
   */
  public InMemoryClusterStore stepClock(Duration step) {
    synchronized (db) {
      db.stepNanos += step.toNanos();
    }
    return this;
  }

  public Fault fault() {
    synchronized (faultLock) {
      return fault;
    }
  }

  /**
   * The next call on this connection whose description starts with {@code callPrefix} (for example
   * {@code "claiming"}, {@code "releasing"}) commits, and then fails with {@link
   * StoreUnavailableException}, as when a connection drops after the database committed but before
   * its answer arrived: the caller cannot tell whether its change happened.
   */
  public InMemoryClusterStore loseAcknowledgementOfNext(String callPrefix) {
    oneShots.add(new OneShot(callPrefix, true));
    return this;
  }

  /**
   * The next call on this connection whose description starts with {@code callPrefix} fails with
   * {@link StoreUnavailableException} before it reaches the database: nothing changes.
   */
  public InMemoryClusterStore failNext(String callPrefix) {
    oneShots.add(new OneShot(callPrefix, false));
    return this;
  }

  /** One armed fault for the next call whose description starts with a prefix. */
  private record OneShot(String callPrefix, boolean afterCommit) {}

  /** Takes the first armed one-shot fault for {@code what}, if any. */
  private OneShot takeOneShot(String what) {
    for (OneShot shot : oneShots) {
      if (what.startsWith(shot.callPrefix()) && oneShots.remove(shot)) {
        return shot;
      }
    }
    return null;
  }

  // ---- members ----

  @Override
  public void initialize() {
    transaction("initializing", db -> null); // no schema; fails like the others when cut off
  }

  @Override
  public MemberId join(String name, Duration ttl, Optional<MemberId> previous, MemberInfo info) {
    return transaction(
        "joining as " + name,
        db -> {
          long now = db.now();
          MemberRow row = db.members.computeIfAbsent(name, MemberRow::new);
          long left = row.leaseExpires - now;
          boolean live = row.state == MemberRow.State.ACTIVE && left > 0;
          boolean ours = previous.isPresent() && previous.get().incarnation() == row.incarnation;
          if (live && !ours) {
            throw new MemberNameInUseException(
                name, row.incarnation, Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(left)));
          }
          // The previous incarnation, live or not, is superseded: its services are claimable now.
          row.incarnation++;
          row.state = MemberRow.State.ACTIVE;
          row.leaseExpires = now + ttl.toNanos();
          row.joinedAt = now;
          row.renewedAt = now;
          row.info =
              info.peerAddress().isPresent() ? info : info.withPeerAddress(row.peerAddress());
          row.peerView = null;
          // row.draining stays: it is the operator's, and survives a restart of the master.
          db.epoch++; // a new member changes the balance
          return new MemberId(name, row.incarnation);
        });
  }

  @Override
  public Heartbeat heartbeat(MemberId member, Duration ttl) {
    return transaction(
        "renewing the lease of " + member,
        db -> {
          long now = db.now();
          MemberRow row = db.members.get(member.name());
          // Only a live lease is extended: once run out, it stays run out (the master rejoins).
          boolean renewed = row != null && row.isIncarnation(member) && row.isLive(now);
          // As PostgreSQL's heartbeat measures it: this clock's now minus the previous renewal.
          long ownRenewalAge =
              row != null && row.isIncarnation(member) ? millis(now - row.renewedAt) : -1;
          if (renewed) {
            row.leaseExpires = now + ttl.toNanos();
            row.renewedAt = now;
          }
          List<Heartbeat.Lease> leases = new ArrayList<>();
          for (MemberRow m : db.members.values()) {
            leases.add(
                new Heartbeat.Lease(
                    m.name,
                    m.incarnation,
                    m.state == MemberRow.State.ACTIVE,
                    millis(m.leaseExpires - now),
                    millis(now - m.renewedAt),
                    m.peerAddress()));
          }
          return new Heartbeat(renewed, db.epoch, leases, -1, ownRenewalAge);
        });
  }

  @Override
  public void leave(MemberId member) {
    transaction(
        "leaving as " + member,
        db -> {
          long now = db.now();
          long epoch = ++db.epoch;
          for (ServiceRow s : db.services.values()) {
            if (member.equals(s.owner)) {
              s.release(epoch);
            }
          }
          MemberRow row = db.members.get(member.name());
          if (row != null && row.isIncarnation(member) && row.state == MemberRow.State.ACTIVE) {
            row.state = MemberRow.State.STOPPED;
            row.leaseExpires = now;
          }
          return null;
        });
  }

  @Override
  public int expireOverdueMembers() {
    return transaction(
        "expiring overdue members",
        db -> {
          long now = db.now();
          int expired = 0;
          for (MemberRow m : db.members.values()) {
            // The owner's renewal and this expiry are both under the lock: exactly one wins.
            if (m.state == MemberRow.State.ACTIVE && m.leaseExpires - now <= 0) {
              m.state = MemberRow.State.EXPIRED;
              expired++;
            }
          }
          if (expired > 0) {
            db.epoch++;
          }
          return expired;
        });
  }

  @Override
  public boolean setDraining(String member, boolean draining) {
    return transaction(
        (draining ? "draining " : "undraining ") + member,
        db -> {
          MemberRow row = db.members.get(member);
          if (row == null) {
            return false;
          }
          row.draining = draining;
          db.epoch++;
          return true;
        });
  }

  @Override
  public void publishPeerView(MemberId member, String view) {
    transaction(
        "publishing the peer view of " + member,
        db -> {
          MemberRow row = db.members.get(member.name());
          if (row != null && row.isIncarnation(member)) {
            row.peerView = view;
          }
          return null;
        });
  }

  // ---- services ----

  @Override
  public void define(Collection<ServiceSpec> services) {
    transaction(
        "registering services",
        db -> {
          List<ServiceSpec> changed =
              services.stream()
                  .filter(
                      spec ->
                          !db.services.containsKey(spec.name())
                              || !db.services.get(spec.name()).spec.equals(spec))
                  .toList();
          if (changed.isEmpty()) {
            return null;
          }
          long epoch = ++db.epoch;
          for (ServiceSpec spec : changed) {
            ServiceRow row = db.services.computeIfAbsent(spec.name(), n -> new ServiceRow());
            row.spec = spec;
            row.changedEpoch = epoch;
          }
          return null;
        });
  }

  @Override
  public boolean setMoveTarget(String service, Optional<String> member) {
    return transaction(
        "moving " + service,
        db -> {
          ServiceRow row = db.services.get(service);
          if (row == null) {
            return false;
          }
          row.moveTo = member;
          row.changedEpoch = ++db.epoch;
          return true;
        });
  }

  @Override
  public Collection<String> claimableServices() {
    return transaction(
        "listing claimable services",
        db ->
            db.services.values().stream().filter(db::isClaimable).map(s -> s.spec.name()).toList());
  }

  @Override
  public List<FencingToken> claim(MemberId member, Collection<String> services) {
    return transaction(
        "claiming " + services.size() + " service(s) for " + member,
        db -> {
          long now = db.now();
          MemberRow me = db.members.get(member.name());
          // A claim is a write made for an owner: fenced by the claimer's own live lease.
          if (me == null || !me.isIncarnation(member) || !me.isLive(now)) {
            return List.<FencingToken>of();
          }
          List<ServiceRow> claimable =
              new LinkedHashSet<>(services)
                  .stream()
                      .map(db.services::get)
                      .filter(s -> s != null && db.isClaimable(s))
                      .toList();
          if (claimable.isEmpty()) {
            return List.<FencingToken>of(); // nothing changed: the epoch stays
          }
          long epoch = ++db.epoch;
          List<FencingToken> won = new ArrayList<>();
          for (ServiceRow s : claimable) {
            s.owner = member;
            s.token++;
            s.grantedAt = now;
            s.changedEpoch = epoch;
            won.add(new FencingToken(s.spec.name(), s.token, member));
          }
          return won;
        });
  }

  @Override
  public boolean release(FencingToken token) {
    return release(List.of(token)) == 1;
  }

  @Override
  public int release(Collection<FencingToken> tokens) {
    if (tokens.isEmpty()) {
      return 0;
    }
    return transaction(
        "releasing " + tokens.size() + " service(s)",
        db -> {
          List<ServiceRow> current =
              tokens.stream().map(db::currentRow).flatMap(Optional::stream).distinct().toList();
          if (current.isEmpty()) {
            return 0;
          }
          long epoch = ++db.epoch;
          current.forEach(s -> s.release(epoch));
          return current.size();
        });
  }

  @Override
  public boolean releaseFailedStart(FencingToken token) {
    return transaction(
        "releasing " + token + " after a failed start",
        db -> {
          Optional<ServiceRow> row = db.currentRow(token);
          row.ifPresent(
              s -> {
                s.release(++db.epoch);
                s.startFailedBy = Optional.of(token.holder());
              });
          return row.isPresent();
        });
  }

  @Override
  public Optional<FencingToken> currentGrant(String service) {
    return transaction(
        "reading the grant of " + service,
        db ->
            Optional.ofNullable(db.services.get(service))
                .filter(s -> s.owner != null)
                .map(s -> new FencingToken(service, s.token, s.owner)));
  }

  // ---- reads for the balancer and the operator ----

  @Override
  public ClusterFacts facts() {
    return factsSince(-1);
  }

  @Override
  public ClusterFacts factsSince(long sinceEpoch) {
    return transaction(
        "reading the cluster for the balancer",
        db -> {
          long now = db.now();
          List<ClusterFacts.Member> members = new ArrayList<>();
          for (MemberRow m : db.members.values()) {
            if (m.state == MemberRow.State.ACTIVE) { // overdue or not: expiry is a separate step
              members.add(
                  new ClusterFacts.Member(
                      m.name,
                      m.incarnation,
                      new MemberSpec(m.name, m.info.capacity(), m.info.tags(), m.draining),
                      m.peerAddress(),
                      millis(m.leaseExpires - now)));
            }
          }
          List<ClusterFacts.Service> services = new ArrayList<>();
          for (ServiceRow s : db.services.values()) {
            if (s.changedEpoch > sinceEpoch) {
              services.add(
                  new ClusterFacts.Service(
                      s.spec, s.moveTo, Optional.ofNullable(s.owner), s.token, s.startFailedBy));
            }
          }
          return new ClusterFacts(db.epoch, members, services);
        });
  }

  @Override
  public ClusterStatus status() {
    return transaction(
        "reading the cluster status",
        db -> {
          long now = db.now();
          List<ClusterStatus.Service> services = new ArrayList<>();
          for (ServiceRow s : db.services.values()) {
            services.add(
                new ClusterStatus.Service(
                    s.spec.name(),
                    s.owner == null ? null : s.owner.toString(),
                    s.token,
                    s.grantedAt == null ? null : db.instant(s.grantedAt)));
          }
          List<ClusterStatus.Member> members = new ArrayList<>();
          for (MemberRow m : db.members.values()) {
            MemberId id = new MemberId(m.name, m.incarnation);
            members.add(
                new ClusterStatus.Member(
                    m.name,
                    m.incarnation,
                    m.state.name(),
                    millis(m.leaseExpires - now),
                    db.instant(m.joinedAt),
                    m.info.host(),
                    m.info.pid(),
                    (int) db.services.values().stream().filter(s -> id.equals(s.owner)).count()));
          }
          return new ClusterStatus(db.instant(now), members, services);
        });
  }

  // ---- pushes ----

  /** True: {@link #subscribe} is called after every change, as PostgreSQL's NOTIFY would. */
  @Override
  public boolean pushesChanges() {
    return true;
  }

  /**
   * Calls {@code onChange} after every change any connection to this database commits (this one's
   * own included), on the thread that made the change, after it left the lock: keep it short. A
   * push is a hint: while this connection has a fault, its pushes are lost.
   */
  @Override
  public AutoCloseable subscribe(Runnable onChange, Duration pollInterval) {
    Runnable subscription = onChange::run; // its own identity, so that it removes only itself
    subscribers.add(subscription);
    return () -> subscribers.remove(subscription);
  }

  /**
   * Closes this connection: its calls fail from now on; the database and other connections live.
   */
  @Override
  public void close() {
    synchronized (faultLock) {
      closed = true;
      faultLock.notifyAll();
    }
    subscribers.clear();
    db.connections.remove(this);
  }

  // ---- plumbing ----

  /**
   * Runs {@code work} as one transaction: through this connection's faults, then under the
   * database's lock; pushes to every subscriber if the change epoch moved.
   */
  private <T> T transaction(String what, Function<Database, T> work) {
    reach(what);
    OneShot shot = takeOneShot(what);
    if (shot != null && !shot.afterCommit()) {
      throw new StoreUnavailableException(
          what + ": the in-memory store failed this call (a fault injected by the test)", null);
    }
    T result;
    boolean changed;
    synchronized (db) {
      long before = db.epoch;
      result = work.apply(db);
      changed = db.epoch != before;
    }
    if (changed) {
      for (InMemoryClusterStore connection : db.connections) {
        connection.push();
      }
    }
    if (shot != null) {
      throw new StoreUnavailableException(
          what + ": committed, but the acknowledgement was lost (a fault injected by the test)",
          null);
    }
    return result;
  }

  /**
   * Waits out or fails on this connection's fault, as the network between a master and its database
   * would.
   */
  private void reach(String what) {
    synchronized (faultLock) {
      long deadline = System.nanoTime() + HANG_LIMIT.toNanos();
      while (fault == Fault.HANG && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new StoreUnavailableException(
              what
                  + ": the in-memory store did not answer within "
                  + HANG_LIMIT.toMillis()
                  + " ms (a hang injected by the test)",
              null);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(faultLock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new StoreUnavailableException(what + ": interrupted", e);
        }
      }
      if (closed) {
        throw new StoreUnavailableException(
            what + ": this in-memory store connection is closed", null);
      }
      if (fault == Fault.REFUSED) {
        throw new StoreMisconfiguredException(
            "in-memory",
            StoreMisconfiguredException.Problem.CREDENTIALS,
            what + ": the in-memory store refused the credentials (a fault injected by the test)",
            null);
      }
      if (fault == Fault.READ_ONLY) {
        throw new StoreReadOnlyException(
            "in-memory",
            "the database is read-only ("
                + what
                + " on in-memory: a fault injected by the test): point Arbiter at the primary,"
                + " writable server",
            null);
      }
      if (fault == Fault.UNAVAILABLE) {
        throw new StoreUnavailableException(
            what + ": the in-memory store is unavailable (a fault injected by the test)", null);
      }
    }
  }

  private void push() {
    if (fault() != Fault.NONE) {
      return; // a cut connection hears nothing; the master finds the change in its next look
    }
    for (Runnable subscriber : subscribers) {
      try {
        subscriber.run();
      } catch (RuntimeException e) {
        // A subscriber's failure is its own; the change is committed either way.
      }
    }
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** The rows, the change epoch and the clock: what a SQL database holds in its tables. */
  private static final class Database {
    final Ticker clock;
    final long startNanos;
    final Instant startInstant = Instant.now();
    final Map<String, MemberRow> members = new TreeMap<>();
    final Map<String, ServiceRow> services = new TreeMap<>();
    final List<InMemoryClusterStore> connections = new CopyOnWriteArrayList<>();
    long epoch;

    Database(Ticker clock) {
      this.clock = clock;
      this.startNanos = clock.nanos();
    }

    /** How far {@link #stepClock} has moved this database's clock ahead of {@link #clock}. */
    long stepNanos;

    /** The database's clock: the only one leases are judged by. */
    long now() {
      return clock.nanos() + stepNanos;
    }

    /** A reading of the clock as a wall-clock instant, for `arbiter status`. */
    Instant instant(long nanos) {
      return startInstant.plusNanos(nanos - startNanos);
    }

    /**
     * Positive evidence that {@code s} is free: no owner, or the owner's row shows a newer
     * incarnation or the same one no longer ACTIVE. Both facts are permanent once true.
     */
    boolean isClaimable(ServiceRow s) {
      if (s.owner == null) {
        return true;
      }
      MemberRow m = members.get(s.owner.name());
      return m != null
          && (m.incarnation > s.owner.incarnation()
              || (m.incarnation == s.owner.incarnation() && m.state != MemberRow.State.ACTIVE));
    }

    /** The service row of {@code token} if that grant is still the current one. */
    Optional<ServiceRow> currentRow(FencingToken token) {
      ServiceRow s = services.get(token.service());
      return s != null && s.token == token.value() && token.holder().equals(s.owner)
          ? Optional.of(s)
          : Optional.empty();
    }
  }

  /** One master name: the row every incarnation of it takes over in turn. */
  private static final class MemberRow {
    enum State {
      ACTIVE,
      EXPIRED,
      STOPPED
    }

    final String name;
    long incarnation; // 0: never joined (the row is made by the first join)
    State state = State.STOPPED;
    long leaseExpires;
    long joinedAt;
    long renewedAt;
    MemberInfo info;
    boolean draining;
    String peerView;

    MemberRow(String name) {
      this.name = name;
    }

    boolean isIncarnation(MemberId id) {
      return incarnation == id.incarnation();
    }

    boolean isLive(long now) {
      return state == State.ACTIVE && leaseExpires - now > 0;
    }

    Optional<String> peerAddress() {
      return info == null ? Optional.empty() : info.peerAddress();
    }
  }

  /** One clustered service: its rules, the operator's intentions and its grant. */
  private static final class ServiceRow {
    ServiceSpec spec;
    Optional<String> moveTo = Optional.empty();
    MemberId owner; // null when free
    long token; // grows by one at every grant, never reused
    Long grantedAt;
    Optional<MemberId> startFailedBy = Optional.empty();
    long changedEpoch;

    void release(long epoch) {
      owner = null;
      changedEpoch = epoch;
    }
  }
}
