package io.arbiter.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.ArbiterException;
import io.arbiter.ClusterConfig;
import io.arbiter.InvalidConfigException;
import io.arbiter.StoreUnavailableException;
import io.arbiter.events.EventLimits;
import io.arbiter.time.Ticker;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Arbiter on PostgreSQL or MariaDB/MySQL: the one entry point for the JDBC stores. It chooses the
 * dialect once (and logs which and why), makes the connection pools (or uses the caller's data
 * source), and hands out the cluster store, the event store, the session store, the fence and the
 * peer directory over that one dialect and pool. The lease TTL is said once, in the cluster's
 * {@link ClusterConfig}: it sizes the pools' timeouts and bounds idle fenced transactions.
 *
 * <pre>{@code
 * ClusterConfig config = ClusterConfig.builder("master-1").build();
 * try (JdbcArbiter arbiter = JdbcArbiter.builder("jdbc:postgresql://db:5432/buildbot")
 *         .credentials("user", "secret")
 *         .clusterConfig(config)
 *         .createSchema(true)
 *         .build()) {
 *   Cluster cluster = Cluster.builder(arbiter.clusterStore(), config)
 *       .events(arbiter.eventStore())
 *       .service("git-poller", poller)
 *       .build();
 *   JdbcFence fence = arbiter.fence();
 *   ...
 * }
 * }</pre>
 *
 * <p><b>The heartbeat's own connection.</b> A master that cannot renew within its lease fences
 * itself, so its renewal must never wait for a connection behind application traffic on the main
 * pool (event publishing, sessions, fenced writes). With {@link #builder(String)} the heartbeat has
 * a pool of its own ({@value #DEFAULT_HEARTBEAT_POOL_SIZE} connection); with {@link
 * #builder(DataSource)} it takes one connection of the caller's data source at its first renewal
 * and keeps it, unless {@link Builder#heartbeatDataSource} gives it a data source of its own.
 *
 * <p>Closing the arbiter closes the pools it made (not a caller's data source).
 */
public final class JdbcArbiter implements AutoCloseable {
  /** Connections of the main pool: assignment, change listener, event log reader and listener. */
  public static final int DEFAULT_POOL_SIZE = 5;

  /** Connections of the heartbeat's own pool: one master renews from one thread. */
  public static final int DEFAULT_HEARTBEAT_POOL_SIZE = 1;

  /** The lease TTL when neither a cluster config nor a TTL is given (operator tools). */
  public static final Duration DEFAULT_LEASE_TTL = ClusterConfig.DEFAULT_LEASE_TTL;

  /** A missing or older schema is an error that names the scripts, unless creation is allowed. */
  public static final boolean DEFAULT_CREATE_SCHEMA = false;

  /** The largest event payload the event store accepts. */
  public static final int DEFAULT_MAX_EVENT_PAYLOAD_BYTES = EventLimits.DEFAULT_MAX_PAYLOAD_BYTES;

  private static final Logger log = LoggerFactory.getLogger(JdbcArbiter.class);

  private final Dialect dialect;
  private final String dialectReason;
  private final String database;
  private final DataSource dataSource;
  private final Optional<DataSource> heartbeatPool;
  private final boolean heldHeartbeat;
  private final Duration leaseTtl;
  private final Optional<ClusterConfig> clusterConfig;
  private final boolean createSchema;
  private final int maxEventPayloadBytes;
  private final List<AutoCloseable> pools;
  private final JdbcClusterStore clusterStore;
  private final JdbcEventStore eventStore;
  private final JdbcSessionStore sessionStore;
  private final JdbcFence fence;
  private final AtomicBoolean closed = new AtomicBoolean();

  private JdbcArbiter(
      Builder b,
      Dialect dialect,
      String dialectReason,
      String database,
      DataSource dataSource,
      Optional<DataSource> heartbeatPool,
      List<AutoCloseable> pools) {
    this.dialect = dialect;
    this.dialectReason = dialectReason;
    this.database = database;
    this.dataSource = dataSource;
    this.heartbeatPool = heartbeatPool;
    this.heldHeartbeat = heartbeatPool.isEmpty();
    this.leaseTtl = b.effectiveLeaseTtl();
    this.clusterConfig = Optional.ofNullable(b.clusterConfig);
    this.createSchema = b.createSchema;
    this.maxEventPayloadBytes = b.maxEventPayloadBytes;
    this.pools = List.copyOf(pools);
    this.clusterStore = newClusterStore(List.of());
    this.eventStore = newEventStore(List.of());
    this.sessionStore = newSessionStore(List.of());
    this.fence =
        JdbcFence.bounded(
            dataSource, dialect, this::fencedWriteIdleLimit, storeIdleLimit(leaseTtl));
  }

  /**
   * Arbiter with pools of its own on {@code jdbcUrl} ({@code jdbc:postgresql://host:port/db},
   * {@code jdbc:mariadb://...} or {@code jdbc:mysql://...}); the dialect is chosen from the URL, so
   * the arbiter can be built while the database is still down.
   */
  public static Builder builder(String jdbcUrl) {
    try {
      ArbiterDataSources.validateUrl(jdbcUrl);
    } catch (InvalidConfigException e) {
      throw e.renamed("jdbcUrl", jdbcUrl == null ? null : redact(jdbcUrl));
    }
    return new Builder(jdbcUrl, null);
  }

  /**
   * Arbiter on a data source the caller owns (and closes). It should use READ COMMITTED and socket
   * timeouts shorter than the lease (see {@link ArbiterDataSources}). The dialect is chosen from
   * {@link Builder#jdbcUrl} if given, else from the JDBC metadata (which needs the database up).
   */
  public static Builder builder(DataSource dataSource) {
    if (dataSource == null) {
      throw new InvalidConfigException("dataSource", null, "must not be null");
    }
    return new Builder(null, dataSource);
  }

  /** The store the engine runs on: {@code Cluster.builder(arbiter.clusterStore(), config)}. */
  public JdbcClusterStore clusterStore() {
    return clusterStore;
  }

  /** The cluster event log's store, for {@code Cluster.Builder.events(...)}. */
  public JdbcEventStore eventStore() {
    return eventStore;
  }

  /** Shared web sessions. */
  public JdbcSessionStore sessionStore() {
    return sessionStore;
  }

  /**
   * A fence on Arbiter's main pool; idle fenced transactions are ended after the lease TTL of the
   * cluster's members.
   */
  public JdbcFence fence() {
    return fence;
  }

  /**
   * A fence on the application's own pool (which must reach the database that holds the Arbiter
   * tables), so that fenced writes join the application's transactions; idle fenced transactions
   * are ended after the lease TTL of the cluster's members.
   */
  public JdbcFence fence(DataSource applicationDataSource) {
    if (applicationDataSource == null) {
      throw new InvalidConfigException("applicationDataSource", null, "must not be null");
    }
    return JdbcFence.bounded(applicationDataSource, dialect, this::fencedWriteIdleLimit, null);
  }

  /** The lease TTL of the cluster's members (what they joined with), else the one built for. */
  private Duration fencedWriteIdleLimit() {
    return clusterStore.memberLeaseTtl().orElse(leaseTtl);
  }

  /**
   * How long one of Arbiter's own transactions may sit idle before the database ends it: they never
   * wait on the client, so one idle that long belongs to a frozen master, which must not hold the
   * epoch row (every claim, release, join and expiry needs it) for long. A quarter of the lease,
   * between 1 and 5 s.
   */
  static Duration storeIdleLimit(Duration leaseTtl) {
    Duration quarter = leaseTtl.dividedBy(4);
    if (quarter.compareTo(Duration.ofSeconds(1)) < 0) {
      return Duration.ofSeconds(1);
    }
    return quarter.compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : quarter;
  }

  /** The peer link's directory, read from the members table on the main pool. */
  public JdbcPeerDirectory peerDirectory() {
    return peerDirectory(Ticker.system());
  }

  /** As {@link #peerDirectory()}, stamping snapshots with {@code ticker}. */
  public JdbcPeerDirectory peerDirectory(Ticker ticker) {
    return new JdbcPeerDirectory(dataSource, dialect, database, ticker);
  }

  public Dialect dialect() {
    return dialect;
  }

  /** Why this dialect: from the URL, from the JDBC metadata, or given by the caller. */
  public String dialectReason() {
    return dialectReason;
  }

  /** The main pool (or the caller's data source); the heartbeat does not use it. */
  public DataSource dataSource() {
    return dataSource;
  }

  /** The lease TTL the pools and the fence were set from. */
  public Duration leaseTtl() {
    return leaseTtl;
  }

  /** The cluster's config, if one was given to the builder. */
  public Optional<ClusterConfig> clusterConfig() {
    return clusterConfig;
  }

  /**
   * Checks the schema now and, if the builder allowed it, creates or upgrades it. The engine does
   * the same when a master joins; this is for tools and applications that want the error early.
   */
  public void initializeSchema() {
    clusterStore.initialize();
  }

  /** Closes the pools this arbiter made (a caller's data source stays open). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    clusterStore.close(); // gives back the heartbeat's held connection, if any
    for (AutoCloseable pool : pools) {
      try {
        pool.close();
      } catch (Exception e) {
        throw new ArbiterException("closing the connection pools of " + database, e);
      }
    }
  }

  // ---- for the stores' contract tests: a store that closes the whole arbiter with it ----

  JdbcClusterStore clusterStoreClosingAll() {
    return newClusterStore(List.of(this));
  }

  JdbcEventStore eventStoreClosingAll() {
    return newEventStore(List.of(this));
  }

  JdbcSessionStore sessionStoreClosingAll() {
    return newSessionStore(List.of(this));
  }

  private JdbcClusterStore newClusterStore(List<AutoCloseable> owned) {
    HeartbeatConnection heartbeat =
        heldHeartbeat
            ? HeartbeatConnection.held(dataSource, database)
            : HeartbeatConnection.pooled(heartbeatPool.orElseThrow(), database);
    return new JdbcClusterStore(
        dataSource, heartbeat, dialect, createSchema, database, leaseTtl, owned);
  }

  private JdbcEventStore newEventStore(List<AutoCloseable> owned) {
    return new JdbcEventStore(
        dataSource, dialect, maxEventPayloadBytes, createSchema, database, owned);
  }

  private JdbcSessionStore newSessionStore(List<AutoCloseable> owned) {
    return new JdbcSessionStore(dataSource, dialect, createSchema, database, owned);
  }

  /**
   * The URL without what may hold a secret: the query string and any properties after {@code ;}
   * (user, password), and any {@code user:password@} before the host. For messages and logs.
   */
  static String redact(String jdbcUrl) {
    if (jdbcUrl == null) {
      return null;
    }
    String url = jdbcUrl;
    int cut = url.length();
    for (char c : new char[] {'?', ';'}) {
      int i = url.indexOf(c);
      if (i >= 0) {
        cut = Math.min(cut, i);
      }
    }
    url = url.substring(0, cut);
    int hosts = url.indexOf("//");
    int at = url.indexOf('@', hosts < 0 ? 0 : hosts);
    if (hosts >= 0 && at > hosts) {
      url = url.substring(0, hosts + 2) + "***@" + url.substring(at + 1);
    }
    return url;
  }

  /** Builds a {@link JdbcArbiter}; every default is a {@code DEFAULT_} constant of that class. */
  public static final class Builder {
    private final String jdbcUrlForPools;
    private final DataSource callerDataSource;
    private String jdbcUrl;
    private String user;
    private String password;
    private Dialect dialect;
    private ClusterConfig clusterConfig;
    private Duration leaseTtl;
    private boolean createSchema = DEFAULT_CREATE_SCHEMA;
    private Integer poolSize;
    private Integer heartbeatPoolSize;
    private DataSource heartbeatDataSource;
    private int maxEventPayloadBytes = DEFAULT_MAX_EVENT_PAYLOAD_BYTES;

    private Builder(String jdbcUrl, DataSource dataSource) {
      this.jdbcUrlForPools = jdbcUrl;
      this.jdbcUrl = jdbcUrl;
      this.callerDataSource = dataSource;
    }

    /**
     * The user and password for the pools ({@link JdbcArbiter#builder(String)} only); null: from
     * the URL.
     */
    public Builder credentials(String user, String password) {
      requirePools("credentials", user == null ? null : "user " + user);
      this.user = user;
      this.password = password;
      return this;
    }

    /**
     * With {@link JdbcArbiter#builder(DataSource)}: the data source's URL, to choose the dialect
     * without connecting and to name the database in messages (its query string is never shown).
     */
    public Builder jdbcUrl(String jdbcUrl) {
      if (jdbcUrlForPools != null) {
        throw new InvalidConfigException(
            "jdbcUrl", redact(jdbcUrl), "already given to JdbcArbiter.builder(jdbcUrl)");
      }
      try {
        ArbiterDataSources.validateUrl(jdbcUrl);
      } catch (InvalidConfigException e) {
        throw e.renamed("jdbcUrl", redact(jdbcUrl));
      }
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /** The dialect, instead of choosing it from the URL or the JDBC metadata. */
    public Builder dialect(Dialect dialect) {
      if (dialect == null) {
        throw new InvalidConfigException("dialect", null, "must not be null");
      }
      this.dialect = dialect;
      return this;
    }

    /**
     * The cluster's config: its lease TTL sizes the pools' timeouts and bounds idle fenced
     * transactions. Give the same config to {@code Cluster.builder(arbiter.clusterStore(),
     * config)}.
     */
    public Builder clusterConfig(ClusterConfig config) {
      if (config == null) {
        throw new InvalidConfigException("clusterConfig", null, "must not be null");
      }
      if (leaseTtl != null) {
        throw bothTtls();
      }
      this.clusterConfig = config;
      return this;
    }

    /**
     * The lease TTL, for a process that runs no member (an operator tool, a web server that only
     * reads sessions); default {@link JdbcArbiter#DEFAULT_LEASE_TTL}. A master gives its {@link
     * #clusterConfig} instead.
     */
    public Builder leaseTtl(Duration leaseTtl) {
      if (leaseTtl == null || leaseTtl.toMillis() < 100) {
        throw new InvalidConfigException("leaseTtl", leaseTtl, "must be at least 100 ms");
      }
      if (clusterConfig != null) {
        throw bothTtls();
      }
      this.leaseTtl = leaseTtl;
      return this;
    }

    private InvalidConfigException bothTtls() {
      return new InvalidConfigException(
          "leaseTtl",
          (leaseTtl != null ? leaseTtl : clusterConfig.leaseTtl()),
          "set by clusterConfig(...) or by leaseTtl(...), not both: say the lease TTL once");
    }

    /**
     * Create or upgrade the schema when it is missing or older; default {@value
     * #DEFAULT_CREATE_SCHEMA}.
     */
    public Builder createSchema(boolean createSchema) {
      this.createSchema = createSchema;
      return this;
    }

    /**
     * Connections of the main pool ({@link JdbcArbiter#builder(String)} only); default {@value
     * #DEFAULT_POOL_SIZE}.
     */
    public Builder poolSize(int poolSize) {
      requirePools("poolSize", poolSize);
      if (poolSize < 1) {
        throw new InvalidConfigException("poolSize", poolSize, "must be at least 1");
      }
      this.poolSize = poolSize;
      return this;
    }

    /**
     * Connections of the heartbeat's own pool ({@link JdbcArbiter#builder(String)} only); default
     * {@value #DEFAULT_HEARTBEAT_POOL_SIZE}. 0 makes no such pool: the heartbeat then keeps one
     * connection of the main pool (for processes that run no member).
     */
    public Builder heartbeatPoolSize(int heartbeatPoolSize) {
      requirePools("heartbeatPoolSize", heartbeatPoolSize);
      if (heartbeatPoolSize < 0 || heartbeatPoolSize > 4) {
        throw new InvalidConfigException(
            "heartbeatPoolSize", heartbeatPoolSize, "must be between 0 and 4");
      }
      this.heartbeatPoolSize = heartbeatPoolSize;
      return this;
    }

    /**
     * With {@link JdbcArbiter#builder(DataSource)}: where the heartbeat gets its connections (a
     * small pool of the caller's). Without it the heartbeat keeps one connection of the main data
     * source.
     */
    public Builder heartbeatDataSource(DataSource heartbeatDataSource) {
      if (callerDataSource == null) {
        throw new InvalidConfigException(
            "heartbeatDataSource",
            heartbeatDataSource,
            "only with JdbcArbiter.builder(dataSource): builder(jdbcUrl) makes the heartbeat's"
                + " pool itself (see heartbeatPoolSize)");
      }
      if (heartbeatDataSource == null) {
        throw new InvalidConfigException("heartbeatDataSource", null, "must not be null");
      }
      this.heartbeatDataSource = heartbeatDataSource;
      return this;
    }

    /**
     * The largest event payload; default {@value JdbcArbiter#DEFAULT_MAX_EVENT_PAYLOAD_BYTES}
     * bytes.
     */
    public Builder maxEventPayloadBytes(int maxEventPayloadBytes) {
      this.maxEventPayloadBytes = EventLimits.validateMaxPayloadBytes(maxEventPayloadBytes);
      return this;
    }

    private void requirePools(String field, Object value) {
      if (jdbcUrlForPools == null) {
        throw new InvalidConfigException(
            field,
            value,
            "only with JdbcArbiter.builder(jdbcUrl): a data source given to builder(dataSource)"
                + " brings its own connections and settings");
      }
    }

    private Duration effectiveLeaseTtl() {
      if (clusterConfig != null) {
        return clusterConfig.leaseTtl();
      }
      return leaseTtl != null ? leaseTtl : DEFAULT_LEASE_TTL;
    }

    public JdbcArbiter build() {
      Duration ttl = effectiveLeaseTtl();
      Dialect chosen;
      String reason;
      String database;
      if (dialect != null) {
        chosen = dialect;
        reason = "given to the builder";
        database = jdbcUrl != null ? redact(jdbcUrl) : chosen.name() + " database";
      } else if (jdbcUrl != null) {
        chosen = Dialect.forUrl(jdbcUrl);
        reason =
            "from the JDBC URL's scheme '" + jdbcUrl.substring(0, jdbcUrl.indexOf(':', 5)) + "'";
        database = redact(jdbcUrl);
      } else {
        Detected detected = detect(callerDataSource);
        chosen = detected.dialect;
        reason = detected.reason;
        database = detected.database;
      }
      List<AutoCloseable> pools = new ArrayList<>();
      DataSource main;
      Optional<DataSource> heartbeat;
      String poolsDescription;
      if (callerDataSource != null) {
        main = new SessionBoundedDataSource(callerDataSource, chosen, storeIdleLimit(ttl));
        heartbeat = Optional.ofNullable(heartbeatDataSource);
        poolsDescription =
            heartbeat.isPresent()
                ? "the caller's data source, the heartbeat on a data source of its own"
                : "the caller's data source, the heartbeat keeping one connection of it";
      } else {
        int size = poolSize != null ? poolSize : DEFAULT_POOL_SIZE;
        int heartbeatSize =
            heartbeatPoolSize != null ? heartbeatPoolSize : DEFAULT_HEARTBEAT_POOL_SIZE;
        HikariDataSource pool =
            ArbiterDataSources.create(
                jdbcUrl,
                user,
                password,
                ttl,
                size,
                "arbiter",
                chosen.sessionInitSql(storeIdleLimit(ttl)));
        main = pool;
        if (heartbeatSize > 0) {
          HikariDataSource heartbeatPool =
              ArbiterDataSources.create(
                  jdbcUrl,
                  user,
                  password,
                  ttl,
                  heartbeatSize,
                  "arbiter-heartbeat",
                  chosen.sessionInitSql(storeIdleLimit(ttl)));
          pools.add(heartbeatPool);
          heartbeat = Optional.of(heartbeatPool);
          poolsDescription =
              "a pool of " + size + " and the heartbeat's own pool of " + heartbeatSize;
        } else {
          heartbeat = Optional.empty();
          poolsDescription = "a pool of " + size + ", the heartbeat keeping one connection of it";
        }
        pools.add(pool);
      }
      log.info(
          "Arbiter on {}: dialect {} ({}); lease TTL {} ms ({}); {}; schema creation {}",
          database,
          chosen.name(),
          reason,
          ttl.toMillis(),
          clusterConfig != null
              ? "from the cluster config of " + clusterConfig.memberName()
              : leaseTtl != null ? "given to the builder" : "the default",
          poolsDescription,
          createSchema ? "allowed" : "not allowed");
      return new JdbcArbiter(this, chosen, reason, database, main, heartbeat, pools);
    }

    private record Detected(Dialect dialect, String reason, String database) {}

    private static Detected detect(DataSource dataSource) {
      try (Connection c = dataSource.getConnection()) {
        DatabaseMetaData md = c.getMetaData();
        String product = md.getDatabaseProductName();
        return new Detected(
            Dialect.forProduct(product),
            "from the JDBC metadata: " + product + " " + md.getDatabaseProductVersion(),
            redact(md.getURL()));
      } catch (SQLException e) {
        throw new StoreUnavailableException(
            "cannot choose the database dialect: the data source did not connect ("
                + e.getMessage()
                + "); give JdbcArbiter.Builder.jdbcUrl(url) or dialect(...) so that Arbiter can"
                + " start while the database is down",
            e);
      }
    }
  }
}
