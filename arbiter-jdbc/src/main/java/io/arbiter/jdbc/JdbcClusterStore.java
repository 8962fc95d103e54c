package io.arbiter.jdbc;

import io.arbiter.ArbiterException;
import io.arbiter.ClusterStatus;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.balance.MemberSpec;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.spi.MemberInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * The storage SPI on PostgreSQL and MariaDB/MySQL. Each method is a short transaction; the SQL is
 * written once, with the database differences behind {@link Dialect}.
 *
 * <p>The safety of claims rests on one rule: a service is claimable only on <em>positive
 * evidence</em> that its owner is dead: the owner's member row shows a newer incarnation, or the
 * same incarnation in a non-ACTIVE state. Both facts are permanent once true, so a statement that
 * reads an older version of a member row (a snapshot taken before a join committed) can only see
 * "alive" where the truth is "dead", which delays a claim but never duplicates it. Expiry is the
 * explicit step that records such evidence: {@code UPDATE ... SET state='EXPIRED' WHERE
 * lease_expires <= now}, which races with the owner's own renewal on the same row lock, so exactly
 * one of the two wins.
 */
public final class JdbcClusterStore implements ClusterStore {
  private static final String DEAD_OWNER =
      "EXISTS (SELECT 1 FROM arbiter_member m WHERE m.name = arbiter_service.owner_name AND"
          + " (m.incarnation > arbiter_service.owner_incarnation OR (m.incarnation ="
          + " arbiter_service.owner_incarnation AND m.state <> 'ACTIVE')))";

  /**
   * The change epoch as this transaction sees it. Every transaction that changes service rows bumps
   * the epoch first (holding its row lock to the end, so such transactions commit in epoch order),
   * then stamps the rows it changes with it: a master that has read everything up to epoch E reads
   * only rows with changed_epoch > E next time.
   */
  private static final String EPOCH = "(SELECT epoch FROM arbiter_change WHERE id = 1)";

  /** Services claimed in one statement at most (bounds the IN list). */
  private static final int MAX_CLAIM_BATCH = 500;

  private final DataSource dataSource;
  private final Dialect dialect;
  private final boolean createSchema;
  private final String database;
  private final Sql sql;
  private final boolean ownsDataSource;
  private final Transactions transactions;

  private JdbcClusterStore(
      DataSource dataSource,
      Dialect dialect,
      boolean createSchema,
      String database,
      boolean ownsDataSource) {
    this.dataSource = dataSource;
    this.ownsDataSource = ownsDataSource;
    this.dialect = dialect;
    this.createSchema = createSchema;
    this.database = database;
    this.sql = new Sql(dialect);
    this.transactions = new Transactions(dataSource, database);
  }

  /**
   * A store on a data source the caller owns (and closes). The dialect is chosen from {@code
   * jdbcUrl} so that the store can be built while the database is still down. The data source
   * should use READ COMMITTED and socket timeouts shorter than the lease; see {@link
   * ArbiterDataSources}.
   *
   * @param createSchema create or upgrade the schema when it is missing or older
   */
  public static JdbcClusterStore create(
      DataSource dataSource, String jdbcUrl, boolean createSchema) {
    return new JdbcClusterStore(
        dataSource, dialectFor(jdbcUrl), createSchema, redact(jdbcUrl), false);
  }

  /** A store with its own connection pool, sized and timed for {@code leaseTtl}; closed with it. */
  public static JdbcClusterStore open(
      String jdbcUrl, String user, String password, Duration leaseTtl, boolean createSchema) {
    Dialect dialect = dialectFor(jdbcUrl);
    com.zaxxer.hikari.HikariDataSource pool =
        ArbiterDataSources.create(
            jdbcUrl,
            user,
            password,
            leaseTtl,
            ArbiterDataSources.DEFAULT_POOL_SIZE,
            "arbiter",
            dialect.sessionInitSql());
    return new JdbcClusterStore(pool, dialect, createSchema, redact(jdbcUrl), true);
  }

  private static Dialect dialectFor(String jdbcUrl) {
    return Dialect.forUrl(jdbcUrl);
  }

  public Dialect dialect() {
    return dialect;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /** The URL without its query string (which may hold a password), for messages. */
  static String redact(String jdbcUrl) {
    int q = jdbcUrl.indexOf('?');
    return q < 0 ? jdbcUrl : jdbcUrl.substring(0, q);
  }

  @Override
  public void initialize() {
    transactions.ensureSchema(dialect, createSchema);
  }

  @Override
  public MemberId join(String name, Duration ttl, Optional<MemberId> previous, MemberInfo info) {
    return inTransaction(
        "joining as " + name,
        c -> {
          lockEpoch(c); // the epoch row first, as every change does: no lock-order deadlock
          Long incarnation = null;
          String state = null;
          long leftMillis = 0;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT incarnation, state, "
                      + dialect.millisUntil("lease_expires")
                      + " AS left_ms FROM arbiter_member WHERE name = ? FOR UPDATE")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                incarnation = rs.getLong("incarnation");
                state = rs.getString("state");
                leftMillis = rs.getLong("left_ms");
              }
            }
          }
          if (incarnation == null) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO arbiter_member (name, incarnation, state, lease_expires, joined_at,"
                        + " renewed_at, host, pid, capacity, tags, peer_address) VALUES (?, 1,"
                        + " 'ACTIVE', "
                        + dialect.nowPlusMillisParam()
                        + ", "
                        + dialect.now()
                        + ", "
                        + dialect.now()
                        + ", ?, ?, ?, ?, ?)")) {
              ps.setString(1, name);
              ps.setLong(2, ttl.toMillis());
              ps.setString(3, info.host());
              ps.setLong(4, info.pid());
              ps.setDouble(5, info.capacity());
              ps.setString(6, joinTags(info.tags()));
              ps.setString(7, info.peerAddress().orElse(null));
              ps.executeUpdate();
              // A new member changes the balance.
              dialect.signalChange(c);
            } catch (SQLException e) {
              if (dialect.isDuplicateKey(e)) {
                throw new MemberNameInUseException(name, 1, ttl); // a concurrent first join won
              }
              throw e;
            }
            return new MemberId(name, 1);
          }
          boolean live = "ACTIVE".equals(state) && leftMillis > 0;
          boolean ours = previous.isPresent() && previous.get().incarnation() == incarnation;
          if (live && !ours) {
            throw new MemberNameInUseException(name, incarnation, Duration.ofMillis(leftMillis));
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE arbiter_member SET incarnation = incarnation + 1, state = 'ACTIVE',"
                      + " lease_expires = "
                      + dialect.nowPlusMillisParam()
                      + ", joined_at = "
                      + dialect.now()
                      + ", renewed_at = "
                      + dialect.now()
                      + ", host = ?, pid = ?, capacity = ?, tags = ?, peer_address = COALESCE(?, peer_address), peer_view ="
                      + " NULL WHERE name = ?")) {
            ps.setLong(1, ttl.toMillis());
            ps.setString(2, info.host());
            ps.setLong(3, info.pid());
            ps.setDouble(4, info.capacity());
            ps.setString(5, joinTags(info.tags()));
            ps.setString(6, info.peerAddress().orElse(null));
            ps.setString(7, name);
            ps.executeUpdate();
          }
          // The old incarnation's services are claimable from now on.
          dialect.signalChange(c);
          return new MemberId(name, incarnation + 1);
        });
  }

  @Override
  public Heartbeat heartbeat(MemberId member, Duration ttl) {
    // Autocommit: one statement is one round trip, with no COMMIT after it.
    return inAutoCommit(
        "renewing the lease of " + member,
        c -> {
          String statement = dialect.heartbeatCall().orElse(sql.heartbeat);
          try (PreparedStatement ps = c.prepareStatement(statement)) {
            if (dialect.heartbeatCall().isPresent()) {
              ps.setString(1, member.name());
              ps.setLong(2, member.incarnation());
              ps.setLong(3, ttl.toMillis());
            } else {
              bindRenewal(ps, member, ttl);
            }
            try (ResultSet rs = ps.executeQuery()) {
              return readHeartbeat(rs);
            }
          }
        });
  }

  /** Reads the heartbeat's rows: one per member, each with the renewal's outcome. */
  private static Heartbeat readHeartbeat(ResultSet rs) throws SQLException {
    List<Heartbeat.Lease> leases = new ArrayList<>();
    long epoch = -1;
    long head = -1;
    boolean ok = false;
    while (rs.next()) {
      ok = rs.getLong("renewed") > 0;
      epoch = rs.getLong("epoch");
      head = rs.getLong("event_head");
      leases.add(lease(rs));
    }
    return new Heartbeat(ok, epoch, leases, head);
  }

  private static void bindRenewal(PreparedStatement ps, MemberId member, Duration ttl)
      throws SQLException {
    ps.setLong(1, ttl.toMillis());
    ps.setString(2, member.name());
    ps.setLong(3, member.incarnation());
  }

  private static Heartbeat.Lease lease(ResultSet rs) throws SQLException {
    return new Heartbeat.Lease(
        rs.getString("name"),
        rs.getLong("incarnation"),
        "ACTIVE".equals(rs.getString("state")),
        rs.getLong("left_ms"),
        -rs.getLong("renewed_ms"),
        Optional.ofNullable(rs.getString("peer_address")));
  }

  @Override
  public void publishPeerView(MemberId member, String view) {
    inAutoCommit(
        "publishing the peer view of " + member,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE arbiter_member SET peer_view = ? WHERE name = ? AND incarnation = ?")) {
            ps.setString(1, view.length() > 4000 ? view.substring(0, 4000) : view);
            ps.setString(2, member.name());
            ps.setLong(3, member.incarnation());
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public boolean pushesChanges() {
    return dialect.supportsPushNotification();
  }

  @Override
  public void leave(MemberId member) {
    inTransaction(
        "leaving as " + member,
        c -> {
          dialect.signalChange(c); // first: see EPOCH
          try (PreparedStatement ps = c.prepareStatement(sql.releaseAll)) {
            ps.setString(1, member.name());
            ps.setLong(2, member.incarnation());
            ps.executeUpdate();
          }
          try (PreparedStatement ps = c.prepareStatement(sql.markStopped)) {
            ps.setString(1, member.name());
            ps.setLong(2, member.incarnation());
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public void define(Collection<ServiceSpec> services) {
    if (services.isEmpty()) {
      return;
    }
    inTransaction(
        "registering services",
        c -> {
          Map<String, ServiceSpec> existing = new HashMap<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT name, weight, required_tag, pinned_to, anti_affinity, run_local FROM"
                          + " arbiter_service");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              existing.put(rs.getString("name"), serviceSpec(rs));
            }
          }
          List<ServiceSpec> missing = new ArrayList<>();
          List<ServiceSpec> changed = new ArrayList<>();
          for (ServiceSpec spec : services) {
            ServiceSpec now = existing.get(spec.name());
            if (now == null) {
              missing.add(spec);
            } else if (!now.equals(spec)) {
              changed.add(spec);
            }
          }
          if (!missing.isEmpty() || !changed.isEmpty()) {
            dialect.signalChange(c); // first: see EPOCH
          }
          if (!missing.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(dialect.insertServiceIfAbsent())) {
              for (ServiceSpec spec : missing) {
                ps.setString(1, spec.name());
                bindRules(ps, 2, spec);
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }
          if (!changed.isEmpty()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE arbiter_service SET weight = ?, required_tag = ?, pinned_to = ?,"
                        + " anti_affinity = ?, run_local = ?, changed_epoch = "
                        + EPOCH
                        + " WHERE name = ?")) {
              for (ServiceSpec spec : changed) {
                bindRules(ps, 1, spec);
                ps.setString(6, spec.name());
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }
          return null;
        });
  }

  private static void bindRules(PreparedStatement ps, int from, ServiceSpec spec)
      throws SQLException {
    Placement p = spec.placement();
    ps.setDouble(from, spec.weight());
    ps.setString(from + 1, p.requiredTag().orElse(null));
    ps.setString(from + 2, p.pinnedTo().orElse(null));
    ps.setString(from + 3, p.antiAffinityGroup().orElse(null));
    ps.setBoolean(from + 4, p.local());
  }

  private static ServiceSpec serviceSpec(ResultSet rs) throws SQLException {
    Placement p =
        new Placement(
            Optional.ofNullable(rs.getString("required_tag")),
            Optional.ofNullable(rs.getString("pinned_to")),
            Optional.ofNullable(rs.getString("anti_affinity")),
            rs.getBoolean("run_local"));
    return new ServiceSpec(rs.getString("name"), rs.getDouble("weight"), p);
  }

  private static Optional<MemberId> parseMemberId(String id) {
    if (id == null) {
      return Optional.empty();
    }
    int hash = id.lastIndexOf('#');
    try {
      return Optional.of(
          new MemberId(id.substring(0, hash), Long.parseLong(id.substring(hash + 1))));
    } catch (RuntimeException e) {
      return Optional.empty(); // not written by this code; ignore rather than fail the balancer
    }
  }

  static String joinTags(Set<String> tags) {
    return String.join(",", new TreeSet<>(tags));
  }

  static Set<String> splitTags(String tags) {
    Set<String> out = new TreeSet<>();
    if (tags != null) {
      for (String t : tags.split(",")) {
        if (!t.isBlank()) {
          out.add(t.strip());
        }
      }
    }
    return out;
  }

  @Override
  public ClusterFacts facts() {
    return factsSince(-1);
  }

  @Override
  public ClusterFacts factsSince(long sinceEpoch) {
    return inTransaction(
        "reading the cluster for the balancer",
        c -> {
          long epoch;
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT epoch FROM arbiter_change WHERE id = 1");
              ResultSet rs = ps.executeQuery()) {
            epoch = rs.next() ? rs.getLong(1) : 0;
          }
          List<ClusterFacts.Member> members = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql.factsMembers);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String name = rs.getString("name");
              members.add(
                  new ClusterFacts.Member(
                      name,
                      rs.getLong("incarnation"),
                      new MemberSpec(
                          name,
                          rs.getDouble("capacity"),
                          splitTags(rs.getString("tags")),
                          rs.getBoolean("draining")),
                      Optional.ofNullable(rs.getString("peer_address")),
                      rs.getLong("left_ms")));
            }
          }
          List<ClusterFacts.Service> services = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      sinceEpoch < 0
                          ? sql.factsServices
                          : sql.factsServices + " WHERE changed_epoch > " + sinceEpoch);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String owner = rs.getString("owner_name");
              services.add(
                  new ClusterFacts.Service(
                      serviceSpec(rs),
                      Optional.ofNullable(rs.getString("move_to")),
                      owner == null
                          ? Optional.empty()
                          : Optional.of(new MemberId(owner, rs.getLong("owner_incarnation"))),
                      rs.getLong("token"),
                      parseMemberId(rs.getString("start_failed_by"))));
            }
          }
          return new ClusterFacts(epoch, members, services);
        });
  }

  @Override
  public int release(Collection<FencingToken> tokens) {
    if (tokens.isEmpty()) {
      return 0;
    }
    return inTransaction(
        "releasing " + tokens.size() + " service(s)",
        c -> {
          dialect.signalChange(c); // first: see EPOCH
          int released = 0;
          // One statement per holder and chunk (not one per service): the epoch row stays locked
          // until the commit, and every other master's claim or release waits for it.
          Map<MemberId, List<FencingToken>> byHolder = new java.util.LinkedHashMap<>();
          tokens.forEach(t -> byHolder.computeIfAbsent(t.holder(), k -> new ArrayList<>()).add(t));
          for (Map.Entry<MemberId, List<FencingToken>> e : byHolder.entrySet()) {
            List<FencingToken> all = e.getValue();
            for (int from = 0; from < all.size(); from += MAX_CLAIM_BATCH) {
              List<FencingToken> chunk =
                  all.subList(from, Math.min(all.size(), from + MAX_CLAIM_BATCH));
              String pairs =
                  String.join(", ", java.util.Collections.nCopies(chunk.size(), "(?, ?)"));
              try (PreparedStatement ps =
                  c.prepareStatement(String.format(sql.releaseMany, pairs))) {
                int i = 1;
                ps.setString(i++, e.getKey().name());
                ps.setLong(i++, e.getKey().incarnation());
                for (FencingToken t : chunk) {
                  ps.setString(i++, t.service());
                  ps.setLong(i++, t.value());
                }
                released += ps.executeUpdate();
              }
            }
          }
          return released;
        });
  }

  @Override
  public boolean setDraining(String member, boolean draining) {
    return inTransaction(
        (draining ? "draining " : "undraining ") + member,
        c -> {
          lockEpoch(c); // the epoch row first, as every change does: no lock-order deadlock
          int n;
          try (PreparedStatement ps =
              c.prepareStatement("UPDATE arbiter_member SET draining = ? WHERE name = ?")) {
            ps.setBoolean(1, draining);
            ps.setString(2, member);
            n = ps.executeUpdate();
          }
          if (n > 0) {
            dialect.signalChange(c);
          }
          return n > 0;
        });
  }

  @Override
  public boolean setMoveTarget(String service, Optional<String> member) {
    return inTransaction(
        "moving " + service,
        c -> {
          dialect.signalChange(c); // first: see EPOCH
          int n;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE arbiter_service SET move_to = ?, changed_epoch = "
                      + EPOCH
                      + " WHERE name = ?")) {
            ps.setString(1, member.orElse(null));
            ps.setString(2, service);
            n = ps.executeUpdate();
          }
          return n > 0;
        });
  }

  @Override
  public int expireOverdueMembers() {
    return inTransaction(
        "expiring overdue members",
        c -> {
          lockEpoch(c); // the epoch row first, as every change does: no lock-order deadlock
          int n;
          try (PreparedStatement ps = c.prepareStatement(sql.expireOverdue)) {
            n = ps.executeUpdate();
          }
          if (n > 0) {
            dialect.signalChange(c);
          }
          return n;
        });
  }

  @Override
  public Collection<String> claimableServices() {
    return inTransaction(
        "listing claimable services",
        c -> {
          List<String> names = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql.claimable);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              names.add(rs.getString(1));
            }
          }
          return names;
        });
  }

  @Override
  public List<FencingToken> claim(MemberId member, Collection<String> services) {
    List<FencingToken> won = new ArrayList<>();
    List<String> all = List.copyOf(services);
    for (int from = 0; from < all.size(); from += MAX_CLAIM_BATCH) {
      List<String> batch = all.subList(from, Math.min(all.size(), from + MAX_CLAIM_BATCH));
      won.addAll(claimBatch(member, batch));
    }
    return won;
  }

  private List<FencingToken> claimBatch(MemberId member, List<String> services) {
    String in = String.join(", ", java.util.Collections.nCopies(services.size(), "?"));
    return inTransaction(
        "claiming " + services.size() + " service(s) for " + member,
        c -> {
          // First (see EPOCH); a claim that wins nothing wastes a bump, which costs the other
          // masters a read of the rows changed since (none).
          dialect.signalChange(c);
          List<FencingToken> won = new ArrayList<>();
          int claimed;
          try (PreparedStatement ps = c.prepareStatement(String.format(sql.claim, in))) {
            int i = 1;
            ps.setString(i++, member.name());
            ps.setLong(i++, member.incarnation());
            for (String s : services) {
              ps.setString(i++, s);
            }
            ps.setString(i++, member.name());
            ps.setLong(i, member.incarnation());
            claimed = ps.executeUpdate();
          }
          if (claimed == 0) {
            // Nothing changed: undo the epoch bump, so the other masters are not woken for nothing.
            c.rollback();
            return won;
          }
          // We hold the row locks from the UPDATE, so this reads our own grants. The caller passes
          // no
          // service this incarnation already owned, so every row owned by it here was granted now.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT name, token FROM arbiter_service WHERE owner_name = ? AND owner_incarnation = ?"
                      + " AND name IN ("
                      + in
                      + ")")) {
            int i = 1;
            ps.setString(i++, member.name());
            ps.setLong(i++, member.incarnation());
            for (String s : services) {
              ps.setString(i++, s);
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                won.add(new FencingToken(rs.getString(1), rs.getLong(2), member));
              }
            }
          }
          return won;
        });
  }

  @Override
  public boolean release(FencingToken token) {
    return inTransaction(
        "releasing " + token,
        c -> {
          dialect.signalChange(c); // first: see EPOCH
          int n;
          try (PreparedStatement ps = c.prepareStatement(sql.releaseOne)) {
            ps.setString(1, token.service());
            ps.setLong(2, token.value());
            ps.setString(3, token.holder().name());
            ps.setLong(4, token.holder().incarnation());
            n = ps.executeUpdate();
          }
          return n == 1;
        });
  }

  @Override
  public boolean releaseFailedStart(FencingToken token) {
    return inTransaction(
        "releasing " + token + " after a failed start",
        c -> {
          dialect.signalChange(c); // first: see EPOCH
          int n;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE arbiter_service SET owner_name = NULL, owner_incarnation = NULL,"
                      + " released_at = "
                      + dialect.now()
                      + ", start_failed_by = ?, changed_epoch = "
                      + EPOCH
                      + " WHERE name = ? AND token = ? AND owner_name = ? AND owner_incarnation = ?")) {
            ps.setString(1, token.holder().name() + "#" + token.holder().incarnation());
            ps.setString(2, token.service());
            ps.setLong(3, token.value());
            ps.setString(4, token.holder().name());
            ps.setLong(5, token.holder().incarnation());
            n = ps.executeUpdate();
          }
          return n == 1;
        });
  }

  @Override
  public Optional<FencingToken> currentGrant(String service) {
    return inTransaction(
        "reading the grant of " + service,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT owner_name, owner_incarnation, token FROM arbiter_service WHERE name = ?")) {
            ps.setString(1, service);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next() || rs.getString(1) == null) {
                return Optional.<FencingToken>empty();
              }
              return Optional.of(
                  new FencingToken(
                      service, rs.getLong(3), new MemberId(rs.getString(1), rs.getLong(2))));
            }
          }
        });
  }

  @Override
  public ClusterStatus status() {
    return inTransaction(
        "reading the cluster status",
        c -> {
          Instant dbNow;
          try (PreparedStatement ps = c.prepareStatement("SELECT " + dialect.now() + " AS t");
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            dbNow = dialect.readInstant(rs, "t");
          }
          Map<String, Integer> owned = new HashMap<>();
          List<ClusterStatus.Service> services = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT name, owner_name, owner_incarnation, token, granted_at FROM arbiter_service"
                          + " ORDER BY name");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String owner = rs.getString("owner_name");
              String ownerId = owner == null ? null : owner + "#" + rs.getLong("owner_incarnation");
              if (ownerId != null) {
                owned.merge(ownerId, 1, Integer::sum);
              }
              services.add(
                  new ClusterStatus.Service(
                      rs.getString("name"),
                      ownerId,
                      rs.getLong("token"),
                      dialect.readInstant(rs, "granted_at")));
            }
          }
          List<ClusterStatus.Member> members = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT name, incarnation, state, "
                          + dialect.millisUntil("lease_expires")
                          + " AS left_ms, joined_at, host, pid FROM arbiter_member ORDER BY name");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String id = rs.getString("name") + "#" + rs.getLong("incarnation");
              members.add(
                  new ClusterStatus.Member(
                      rs.getString("name"),
                      rs.getLong("incarnation"),
                      rs.getString("state"),
                      rs.getLong("left_ms"),
                      dialect.readInstant(rs, "joined_at"),
                      rs.getString("host"),
                      rs.getLong("pid"),
                      owned.getOrDefault(id, 0)));
            }
          }
          return new ClusterStatus(dbNow, members, services);
        });
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
    if (ownsDataSource && dataSource instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new ArbiterException("closing the connection pool of " + database, e);
      }
    }
  }

  // ---- plumbing ----

  /**
   * Takes the epoch row's lock without bumping it, for transactions that change member rows and
   * bump the epoch only at the end if anything changed: every transaction that changes something
   * then locks the epoch row before any member or service row, so none can deadlock another.
   */
  private static void lockEpoch(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT epoch FROM arbiter_change WHERE id = 1 FOR UPDATE");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
    }
  }

  private <T> T inTransaction(String what, Transactions.Work<T> work) {
    return transactions.inTransaction(what, work);
  }

  private <T> T inAutoCommit(String what, Transactions.Work<T> work) {
    return transactions.inAutoCommit(what, work);
  }

  /** The statements that run often, built once per dialect. */
  private static final class Sql {
    final String releaseAll;
    final String markStopped;
    final String expireOverdue;
    final String claimable;
    final String claim;
    final String releaseOne;
    final String releaseMany;
    final String heartbeat;
    final String factsMembers;
    final String factsServices;

    Sql(Dialect d) {
      releaseAll =
          "UPDATE arbiter_service SET owner_name = NULL, owner_incarnation = NULL, released_at = "
              + d.now()
              + ", changed_epoch = "
              + EPOCH
              + " WHERE owner_name = ? AND owner_incarnation = ?";
      markStopped =
          "UPDATE arbiter_member SET state = 'STOPPED', lease_expires = "
              + d.now()
              + " WHERE name = ? AND incarnation = ? AND state = 'ACTIVE'";
      expireOverdue =
          "UPDATE arbiter_member SET state = 'EXPIRED' WHERE state = 'ACTIVE' AND lease_expires <= "
              + d.now();
      claimable = "SELECT name FROM arbiter_service WHERE owner_name IS NULL OR " + DEAD_OWNER;
      // The claimer's own lease must be live too: a claim is a write made for an owner, so it is
      // fenced like any other.
      claim =
          "UPDATE arbiter_service SET owner_name = ?, owner_incarnation = ?, token = token + 1,"
              + " granted_at = "
              + d.now()
              + ", released_at = NULL, changed_epoch = "
              + EPOCH
              + " WHERE name IN (%s) AND (owner_name IS NULL OR "
              + DEAD_OWNER
              + ") AND EXISTS (SELECT 1 FROM arbiter_member me WHERE me.name = ? AND"
              + " me.incarnation = ? AND me.state = 'ACTIVE' AND me.lease_expires > "
              + d.now()
              + ")";
      String renewWhere =
          " WHERE name = ? AND incarnation = ? AND state = 'ACTIVE' AND lease_expires > " + d.now();
      String leaseColumns =
          "(SELECT epoch FROM arbiter_change WHERE id = 1) AS epoch, (SELECT last_seq FROM"
              + " arbiter_event_head WHERE id = 1) AS event_head, m.name, m.incarnation,"
              + " m.state, m.peer_address, "
              + d.millisUntil("m.lease_expires")
              + " AS left_ms, "
              + d.millisUntil("m.renewed_at")
              + " AS renewed_ms FROM arbiter_member m";
      // One statement renews and reads back; the SELECT sees the snapshot from before the UPDATE,
      // which is all it needs (the other members' leases and the epoch).
      heartbeat =
          "WITH renewed AS (UPDATE arbiter_member SET lease_expires = "
              + d.nowPlusMillisParam()
              + ", renewed_at = "
              + d.now()
              + renewWhere
              + " RETURNING 1) SELECT (SELECT COUNT(*) FROM renewed) AS renewed, "
              + leaseColumns;
      factsMembers =
          "SELECT name, incarnation, capacity, tags, draining, peer_address, "
              + d.millisUntil("lease_expires")
              + " AS left_ms FROM arbiter_member WHERE state = 'ACTIVE'";
      factsServices =
          "SELECT name, weight, required_tag, pinned_to, anti_affinity, run_local, move_to,"
              + " owner_name, owner_incarnation, token, start_failed_by FROM arbiter_service";
      releaseMany =
          "UPDATE arbiter_service SET owner_name = NULL, owner_incarnation = NULL, released_at = "
              + d.now()
              + ", changed_epoch = "
              + EPOCH
              + " WHERE owner_name = ? AND owner_incarnation = ? AND (name, token) IN (%s)";
      releaseOne =
          "UPDATE arbiter_service SET owner_name = NULL, owner_incarnation = NULL, released_at = "
              + d.now()
              + ", changed_epoch = "
              + EPOCH
              + " WHERE name = ? AND token = ? AND owner_name = ? AND owner_incarnation = ?";
    }
  }
}
