package io.arbiter.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.InvalidConfigException;
import io.arbiter.sessions.SessionIds;
import io.arbiter.spi.SessionStore;
import io.arbiter.spi.StoredSession;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Shared web sessions on PostgreSQL and MariaDB/MySQL: tables {@code arbiter_session} (one row per
 * session, keyed by the SHA-256 of its id) and {@code arbiter_session_attribute} (one row per
 * attribute, deleted with its session). Every operation is one statement by primary key, except
 * create (one per attribute more, in one transaction) and purge (one bounded DELETE).
 *
 * <p>Expiry is judged by the database's clock only: every statement compares {@code expires_at}
 * with the database's {@code now}, and a touch sets it from the same clock. Since a live session's
 * {@code expires_at} only moves forward and a touch requires {@code expires_at > now}, a session
 * once expired (or deleted) can never be revived by a late touch or attribute write from any
 * master.
 */
public final class JdbcSessionStore implements SessionStore {
  private static final String LIVE = "expires_at > ";

  private final DataSource dataSource;
  private final Dialect dialect;
  private final boolean createSchema;
  private final String database;
  private final Transactions transactions;
  private final boolean ownsDataSource;
  private final String read;
  private final String insertSession;
  private final String insertAttribute;
  private final String touch;
  private final String setAttribute;
  private final String removeAttribute;
  private final String purge;

  private JdbcSessionStore(
      DataSource dataSource,
      Dialect dialect,
      boolean createSchema,
      String database,
      boolean ownsDataSource) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.createSchema = createSchema;
    this.database = database;
    this.transactions = new Transactions(dataSource, database);
    this.ownsDataSource = ownsDataSource;
    String now = dialect.now();
    read =
        "SELECT s.principal, s.created_at, s.last_access_at, s.max_inactive_ms, s.expires_at, "
            + dialect.millisUntil("s.expires_at")
            + " AS left_ms, "
            + dialect.millisUntil("s.last_access_at")
            + " AS since_ms, a.name, a.value FROM arbiter_session s"
            + " LEFT JOIN arbiter_session_attribute a ON a.session_id_hash = s.id_hash"
            + " WHERE s.id_hash = ? AND s."
            + LIVE
            + now;
    insertSession =
        "INSERT INTO arbiter_session (id_hash, principal, created_at, last_access_at,"
            + " max_inactive_ms, expires_at) VALUES (?, ?, "
            + now
            + ", "
            + now
            + ", ?, "
            + dialect.nowPlusMillisParam()
            + ")";
    insertAttribute =
        "INSERT INTO arbiter_session_attribute (session_id_hash, name, value) VALUES (?, ?, ?)";
    touch =
        "UPDATE arbiter_session SET last_access_at = "
            + now
            + ", expires_at = "
            + dialect.nowPlusMillis("max_inactive_ms")
            + " WHERE id_hash = ? AND "
            + LIVE
            + now;
    // INSERT ... SELECT: the attribute is written only if the session is live at that moment.
    setAttribute =
        "INSERT INTO arbiter_session_attribute (session_id_hash, name, value)"
            + " SELECT id_hash, ?, ? FROM arbiter_session WHERE id_hash = ? AND "
            + LIVE
            + now
            + dialect.onConflictUpdate("session_id_hash, name", "value");
    removeAttribute =
        "DELETE FROM arbiter_session_attribute WHERE session_id_hash = ? AND name = ? AND EXISTS"
            + " (SELECT 1 FROM arbiter_session s WHERE s.id_hash = ? AND s."
            + LIVE
            + now
            + ")";
    purge = dialect.deleteLimited("arbiter_session", "id_hash", "expires_at <= " + now);
  }

  /**
   * A store on a data source the caller owns (and closes), e.g. the pool a master already has. The
   * dialect is chosen from {@code jdbcUrl}; the pool should use READ COMMITTED (see {@link
   * ArbiterDataSources}).
   *
   * @param createSchema create or upgrade the schema when it is missing or older
   */
  public static JdbcSessionStore create(
      DataSource dataSource, String jdbcUrl, boolean createSchema) {
    return new JdbcSessionStore(
        dataSource, Dialect.forUrl(jdbcUrl), createSchema, JdbcClusterStore.redact(jdbcUrl), false);
  }

  /**
   * A store with its own pool of {@code poolSize} connections, closed with it. Web requests wait at
   * most about a second for a connection.
   */
  public static JdbcSessionStore open(
      String jdbcUrl, String user, String password, int poolSize, boolean createSchema) {
    if (poolSize < 1) {
      throw new InvalidConfigException("poolSize", poolSize, "must be at least 1");
    }
    Dialect dialect = Dialect.forUrl(jdbcUrl);
    HikariDataSource pool =
        ArbiterDataSources.create(
            jdbcUrl,
            user,
            password,
            Duration.ofSeconds(3), // sets a 1 s connection timeout and a 3 s socket timeout
            poolSize,
            "arbiter-sessions",
            dialect.sessionInitSql());
    return new JdbcSessionStore(
        pool, dialect, createSchema, JdbcClusterStore.redact(jdbcUrl), true);
  }

  @Override
  public void initialize() {
    transactions.ensureSchema(dialect, createSchema);
  }

  @Override
  public StoredSession create(
      String principal, Map<String, String> attributes, Duration maxInactive) {
    SessionIds.checkPrincipal(principal);
    SessionIds.checkAttributes(attributes);
    if (maxInactive == null || maxInactive.toMillis() < 1) {
      throw new InvalidConfigException("maxInactive", maxInactive, "must be at least 1 ms");
    }
    String id = SessionIds.newId();
    String hash = SessionIds.hash(id);
    return inTransaction(
        "creating a session",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(insertSession)) {
            ps.setString(1, hash);
            ps.setString(2, principal);
            ps.setLong(3, maxInactive.toMillis());
            ps.setLong(4, maxInactive.toMillis());
            ps.executeUpdate();
          }
          if (!attributes.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(insertAttribute)) {
              for (Map.Entry<String, String> a : attributes.entrySet()) {
                ps.setString(1, hash);
                ps.setString(2, a.getKey());
                ps.setString(3, a.getValue());
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }
          // Read back in the same transaction: the caller gets the database's own times.
          return readWith(c, id, hash)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "a session created with maxInactive "
                              + maxInactive
                              + " read as expired"));
        });
  }

  @Override
  public Optional<StoredSession> read(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    String hash = SessionIds.hash(id);
    return inConnection("reading a session", c -> readWith(c, id, hash));
  }

  private Optional<StoredSession> readWith(Connection c, String id, String hash)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(read)) {
      ps.setString(1, hash);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        String principal = rs.getString("principal");
        Instant createdAt = dialect.readInstant(rs, "created_at");
        Instant lastAccessAt = dialect.readInstant(rs, "last_access_at");
        long maxInactiveMs = rs.getLong("max_inactive_ms");
        Instant expiresAt = dialect.readInstant(rs, "expires_at");
        long leftMs = rs.getLong("left_ms");
        long sinceMs = -rs.getLong("since_ms");
        Map<String, String> attributes = new HashMap<>();
        do {
          String name = rs.getString("name");
          if (name != null) { // the LEFT JOIN's row for a session without attributes
            attributes.put(name, rs.getString("value"));
          }
        } while (rs.next());
        return Optional.of(
            new StoredSession(
                id,
                principal,
                attributes,
                createdAt,
                lastAccessAt,
                Duration.ofMillis(maxInactiveMs),
                expiresAt,
                Duration.ofMillis(Math.max(0, sinceMs)),
                Duration.ofMillis(Math.max(1, leftMs))));
      }
    }
  }

  @Override
  public boolean touch(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    return update("touching a session", touch, SessionIds.hash(id)) > 0;
  }

  @Override
  public boolean setAttribute(String id, String name, String value) {
    SessionIds.checkAttribute(name, value);
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    try {
      return update(
              "setting session attribute " + name, setAttribute, name, value, SessionIds.hash(id))
          > 0;
    } catch (ForeignKeyViolation e) {
      return false; // the session was deleted between the SELECT and the INSERT
    }
  }

  @Override
  public boolean removeAttribute(String id, String name) {
    if (!SessionIds.isWellFormed(id) || name == null) {
      return false;
    }
    String hash = SessionIds.hash(id);
    return update("removing session attribute " + name, removeAttribute, hash, name, hash) > 0;
  }

  @Override
  public boolean invalidate(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    return update(
            "invalidating a session",
            "DELETE FROM arbiter_session WHERE id_hash = ?",
            SessionIds.hash(id))
        > 0;
  }

  @Override
  public int purgeExpired(int maxSessions) {
    if (maxSessions < 1) {
      throw new InvalidConfigException("maxSessions", maxSessions, "must be at least 1");
    }
    return update("purging expired sessions", purge, maxSessions);
  }

  @Override
  public long count() {
    return inConnection(
        "counting sessions",
        c -> {
          try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM arbiter_session");
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  @Override
  public void close() {
    if (ownsDataSource && dataSource instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new io.arbiter.ArbiterException("could not close the session store's pool", e);
      }
    }
  }

  public Dialect dialect() {
    return dialect;
  }

  // ---- plumbing ----

  /** Signals a foreign-key violation out of {@link #update} without translating it. */
  private static final class ForeignKeyViolation extends RuntimeException {
    ForeignKeyViolation(SQLException cause) {
      super(cause);
    }
  }

  /** One statement in its own transaction; parameters are strings, longs or ints. */
  private int update(String what, String sql, Object... params) {
    return inConnection(
        what,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
              ps.setObject(i + 1, params[i]);
            }
            return ps.executeUpdate();
          } catch (SQLException e) {
            if (dialect.isForeignKeyViolation(e)) {
              throw new ForeignKeyViolation(e);
            }
            throw e;
          }
        });
  }

  /** One statement in auto-commit (committed for a caller's pool that hands out none). */
  private <T> T inConnection(String what, Transactions.Work<T> work) {
    return transactions.oneStatement(what, work);
  }

  private <T> T inTransaction(String what, Transactions.Work<T> work) {
    return transactions.inTransaction(what, work);
  }
}
