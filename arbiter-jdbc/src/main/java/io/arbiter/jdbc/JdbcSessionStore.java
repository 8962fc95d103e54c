package io.arbiter.jdbc;

import io.arbiter.InvalidConfigException;
import io.arbiter.sessions.SessionIds;
import io.arbiter.spi.SessionStore;
import io.arbiter.spi.StoredSession;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
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
 *
 * <p>Get one from {@link JdbcArbiter#sessionStore()}; the statements are in {@link SessionSql}.
 */
public final class JdbcSessionStore implements SessionStore {
  private final DataSource dataSource;
  private final Dialect dialect;
  private final SessionSql sql;
  private final boolean createSchema;
  private final String database;
  private final Transactions transactions;
  private final SchemaMigrations schema;
  private final List<AutoCloseable> owned;

  /**
   * @param owned closed with the store
   */
  JdbcSessionStore(
      DataSource dataSource,
      Dialect dialect,
      boolean createSchema,
      String database,
      List<AutoCloseable> owned) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.sql = new SessionSql(dialect);
    this.createSchema = createSchema;
    this.database = database;
    this.transactions = new Transactions(dataSource, database);
    this.schema = new SchemaMigrations(dialect, database);
    this.owned = List.copyOf(owned);
  }

  @Override
  public void initialize() {
    schema.ensure(dataSource, createSchema);
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
          try (PreparedStatement ps = c.prepareStatement(sql.insertSession)) {
            ps.setString(1, hash);
            ps.setString(2, principal);
            ps.setLong(3, maxInactive.toMillis());
            ps.setLong(4, maxInactive.toMillis());
            ps.executeUpdate();
          }
          if (!attributes.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(sql.insertAttribute)) {
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
          return sql.read(c, id, hash)
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
    return inConnection("reading a session", c -> sql.read(c, id, hash));
  }

  @Override
  public boolean touch(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    return update("touching a session", sql.touch, SessionIds.hash(id)) > 0;
  }

  @Override
  public boolean setAttribute(String id, String name, String value) {
    SessionIds.checkAttribute(name, value);
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    try {
      return update(
              "setting session attribute " + name,
              sql.setAttribute,
              name,
              value,
              SessionIds.hash(id))
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
    return update("removing session attribute " + name, sql.removeAttribute, hash, name, hash) > 0;
  }

  @Override
  public boolean invalidate(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    return update("invalidating a session", sql.invalidate, SessionIds.hash(id)) > 0;
  }

  @Override
  public int purgeExpired(int maxSessions) {
    if (maxSessions < 1) {
      throw new InvalidConfigException("maxSessions", maxSessions, "must be at least 1");
    }
    return update("purging expired sessions", sql.purge, maxSessions);
  }

  @Override
  public long count() {
    return inConnection(
        "counting sessions",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.count);
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  @Override
  public void close() {
    for (AutoCloseable closeable : owned) {
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
