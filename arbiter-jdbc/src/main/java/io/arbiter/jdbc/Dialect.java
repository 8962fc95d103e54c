package io.arbiter.jdbc;

import io.arbiter.ArbiterException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Everything that differs between the databases Arbiter runs on, in one place: the clock
 * expression, interval arithmetic, share locks, insert-if-absent and how other masters are woken.
 * The store's SQL is written once against these pieces; nothing else in arbiter-jdbc asks which
 * database it is talking to.
 */
public interface Dialect {

  /** A short name, also the folder of the schema scripts. */
  String name();

  /** The database's clock, as a SQL expression evaluated when the statement runs. */
  String now();

  /** {@code now() + ? milliseconds}, with the milliseconds bound as a parameter. */
  String nowPlusMillisParam();

  /** Milliseconds from now until {@code column} (negative once passed), as a BIGINT. */
  String millisUntil(String column);

  /** The clause that share-locks the rows a SELECT reads until the transaction ends. */
  String shareLockClause();

  /**
   * An INSERT of (name, weight, required_tag, pinned_to, anti_affinity, run_local) into
   * arbiter_service that does nothing if the row exists.
   */
  String insertServiceIfAbsent();

  // ---- used by JdbcSessionStore (shared web sessions) ----

  /** {@code now() + millisExpression milliseconds}, for an expression such as a column name. */
  String nowPlusMillis(String millisExpression);

  /**
   * The clause that ends an INSERT (also INSERT ... SELECT) so that a row whose key {@code
   * keyColumns} exists gets {@code column} overwritten with the new value instead of failing.
   */
  String onConflictUpdate(String keyColumns, String column);

  /**
   * A DELETE of at most {@code ?} rows of {@code table} matching {@code condition} (which has no
   * parameters); the limit is the only parameter. Bounds how many rows one statement locks.
   */
  String deleteLimited(String table, String keyColumn, String condition);

  /** True for a foreign-key violation (the parent row is gone). */
  boolean isForeignKeyViolation(SQLException e);

  /** True if other masters are woken by push (LISTEN/NOTIFY); false if they poll a counter. */
  boolean supportsPushNotification();

  /** Tells the other masters that the cluster changed; runs inside the caller's transaction. */
  void signalChange(Connection connection) throws SQLException;

  /**
   * Run once on each of Arbiter's own connections: bounds how long its statements wait for a row
   * lock (a claim must not hang behind a frozen master's open transaction; it fails and retries).
   */
  String sessionInitSql();

  /**
   * Where there is no writable CTE: a call of the schema's heartbeat procedure with parameters
   * (name, incarnation, ttl in ms), one statement that renews and reads back; empty to renew with
   * an UPDATE and read with a SELECT.
   */
  default java.util.Optional<String> heartbeatCall() {
    return java.util.Optional.empty();
  }

  /**
   * Limits how long the current transaction may sit idle, so that a master frozen inside a fenced
   * write loses its connection (and its share lock) instead of blocking failover. Returns the
   * statements to run at the start of the transaction and, if any, after it ends.
   */
  IdleTransactionLimit idleTransactionLimit(java.time.Duration limit);

  /** Statements that bound idle time inside one transaction. */
  record IdleTransactionLimit(String begin, String end) {}

  /** Serializes schema creation between masters that start at the same moment. */
  void lockSchema(Connection connection) throws SQLException;

  void unlockSchema(Connection connection) throws SQLException;

  /** Reads a timestamp column written with {@link #now()}. */
  Instant readInstant(ResultSet rs, String column) throws SQLException;

  /** SQLSTATE values meaning "no such table", for the schema check. */
  boolean isUndefinedTable(SQLException e);

  /** True for a duplicate-key violation. */
  boolean isDuplicateKey(SQLException e);

  /**
   * Appends an event to the log inside the caller's transaction and returns its sequence number.
   * The number is taken by bumping the one head row of the event log; that row lock is held until
   * the transaction ends, so publishers commit in sequence order, and a rollback gives the number
   * back. Where the database pushes, readers are woken when the transaction commits.
   */
  long insertEvent(
      Connection connection, String topic, String key, byte[] payload, String publisher)
      throws SQLException;

  /**
   * True if {@link #insertEvent} is one statement, so that on an auto-commit connection it is a
   * whole transaction in one round trip.
   */
  boolean insertsEventInOneStatement();

  /** An upsert of (member_name, delivered_seq) into arbiter_event_consumer, stamping now. */
  String upsertEventPosition();

  // ---- for an application's own tables (the examples' tick table, say) ----

  /**
   * What differs in a CREATE TABLE: an auto-numbered BIGINT primary key column named {@code name},
   * the column type that holds {@link #now()}, and the options that follow the column list.
   */
  TableDdl tableDdl();

  /**
   * @param autoIncrementKey a column definition, with {@code %s} for its name ({@code %s BIGSERIAL
   *     PRIMARY KEY})
   * @param timestampType the column type that holds {@link #now()} ({@code TIMESTAMPTZ})
   * @param tableOptions what follows the column list, empty or with a leading space
   */
  record TableDdl(String autoIncrementKey, String timestampType, String tableOptions) {}

  /** Picks the dialect from a JDBC URL (which is checked first). */
  static Dialect forUrl(String jdbcUrl) {
    ArbiterDataSources.validateUrl(jdbcUrl);
    return jdbcUrl.startsWith("jdbc:postgresql:") ? new PostgresDialect() : new MariaDbDialect();
  }

  /** Picks the dialect from the connection's metadata. */
  static Dialect of(Connection connection) throws SQLException {
    String product = connection.getMetaData().getDatabaseProductName().toLowerCase();
    if (product.contains("postgres")) {
      return new PostgresDialect();
    }
    if (product.contains("mariadb") || product.contains("mysql")) {
      return new MariaDbDialect();
    }
    throw new ArbiterException(
        "unsupported database '" + product + "': Arbiter runs on PostgreSQL and MariaDB/MySQL");
  }
}
