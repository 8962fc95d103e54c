package io.arbiter.jdbc;

import io.arbiter.InvalidConfigException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What differs between the databases Arbiter runs on, and nothing else: the clock expression,
 * interval arithmetic, share locks, upserts, bounded deletes, push notifications, session settings,
 * the schema lock and error codes. The SQL of each feature ({@code MemberSql}, {@code ClaimSql},
 * {@code FactsSql}, {@code StatusSql}, {@code EventSql}, {@code SessionSql}) is written once
 * against these pieces and asks the dialect only through the capability flags below ({@link
 * #supportsPushNotification()}, {@link #supportsWritableCte()}), never for its name.
 */
public interface Dialect {

  /** A short name, also the folder of the schema migrations. */
  String name();

  // ---- the clock ----

  /** The database's clock, as a SQL expression evaluated when the statement runs. */
  String now();

  /** {@code now() + ? milliseconds}, with the milliseconds bound as a parameter. */
  String nowPlusMillisParam();

  /** {@code now() + millisExpression milliseconds}, for an expression such as a column name. */
  String nowPlusMillis(String millisExpression);

  /** Milliseconds from now until {@code column} (negative once passed), as a BIGINT. */
  String millisUntil(String column);

  /** Reads a timestamp column written with {@link #now()}. */
  Instant readInstant(ResultSet rs, String column) throws SQLException;

  // ---- statement forms ----

  /**
   * Which history of the database this is, as a BIGINT SQL expression that only grows across
   * failovers and restores (PostgreSQL's timeline); a constant 0 where there is none. See {@link
   * DatabaseGeneration}.
   */
  default String generation() {
    return "0";
  }

  /**
   * Whether this database acknowledges a commit of this session only once a standby has it, as a
   * BOOLEAN SQL expression (PostgreSQL: a synchronous standby named and {@code synchronous_commit}
   * on or remote_apply); FALSE where it cannot tell. A failover from a generation seen synchronous
   * lost nothing acknowledged ({@link DatabaseGeneration}).
   */
  default String synchronousReplication() {
    return "FALSE";
  }

  /** The clause that share-locks the rows a SELECT reads until the transaction ends. */
  String shareLockClause();

  /**
   * An INSERT of {@code values} into {@code columns} of {@code table} that does nothing if a row
   * with the same {@code keyColumn} exists.
   */
  String insertIfAbsent(String table, String columns, String values, String keyColumn);

  /**
   * The clause that ends an INSERT (also INSERT ... SELECT) so that a row whose key {@code
   * keyColumns} exists gets {@code columns} overwritten with the new values instead of failing.
   */
  String onConflictUpdate(String keyColumns, String... columns);

  /**
   * A DELETE of at most {@code ?} rows of {@code table} matching {@code condition} (which has no
   * parameters); the limit is the only parameter. Bounds how many rows one statement locks.
   */
  String deleteLimited(String table, String keyColumn, String condition);

  /**
   * True if an UPDATE can run inside a WITH clause and return rows ({@code WITH u AS (UPDATE ...
   * RETURNING ...) SELECT ...}): one statement then writes and reads back. Where it cannot, the
   * schema provides a procedure for what must be one round trip (the heartbeat), and the rest runs
   * as several statements in one transaction.
   */
  boolean supportsWritableCte();

  // ---- wake-ups ----

  /** True if other masters are woken by push (LISTEN/NOTIFY); false if they poll a counter. */
  boolean supportsPushNotification();

  /**
   * The statement that wakes the listeners of {@code channel} when the transaction commits; empty
   * where there is no push ({@link #supportsPushNotification()}).
   */
  Optional<String> notifyStatement(String channel);

  /** The same as a SQL expression, to put in a SELECT list; empty where there is no push. */
  Optional<String> notifyExpression(String channel);

  // ---- sessions and transactions ----

  /**
   * Run once on each of Arbiter's own connections: bounds how long its statements wait for a row
   * lock (a claim must not hang behind a frozen master's open transaction; it fails and retries).
   */
  String sessionInitSql();

  /**
   * As {@link #sessionInitSql()}, and also ends a transaction of the session that sits idle for
   * {@code idleTransactionLimit}: Arbiter's own transactions never wait on the client, so one that
   * is idle that long belongs to a frozen master, which must not keep the epoch row locked. Where
   * the database has no such setting (MySQL), the lock timeout alone.
   */
  default String sessionInitSql(Duration idleTransactionLimit) {
    return sessionInitSql();
  }

  /**
   * Undoes {@link #sessionInitSql(Duration)} on a connection that goes back to the application's
   * own pool; null: nothing to undo.
   */
  default String sessionResetSql() {
    return null;
  }

  /**
   * Limits how long the current transaction may sit idle, so that a master frozen inside a fenced
   * write loses its connection (and its share lock) instead of blocking failover. Returns the
   * statements to run at the start of the transaction and, if any, after it ends.
   */
  IdleTransactionLimit idleTransactionLimit(Duration limit);

  /**
   * As {@link #idleTransactionLimit(Duration)}, on a connection whose session bound is {@code
   * restoreTo} afterwards (Arbiter's own pool, see {@link #sessionInitSql(Duration)}); null: the
   * database's default.
   */
  default IdleTransactionLimit idleTransactionLimit(Duration limit, Duration restoreTo) {
    return idleTransactionLimit(limit);
  }

  /** Statements that bound idle time inside one transaction. */
  record IdleTransactionLimit(String begin, String end) {}

  /**
   * Takes Arbiter's schema lock on {@code connection} (inside its open transaction), so that
   * masters starting at the same moment check and migrate the schema one after the other.
   */
  void lockSchema(Connection connection) throws SQLException;

  void unlockSchema(Connection connection) throws SQLException;

  // ---- errors ----

  /** SQLSTATE values meaning "no such table", for the schema check. */
  boolean isUndefinedTable(SQLException e);

  /** True for a duplicate-key violation. */
  boolean isDuplicateKey(SQLException e);

  /** True for a foreign-key violation (the parent row is gone). */
  boolean isForeignKeyViolation(SQLException e);

  // ---- choosing one ----

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
    return forProduct(connection.getMetaData().getDatabaseProductName());
  }

  /** Picks the dialect from a database product name as JDBC metadata reports it. */
  static Dialect forProduct(String productName) {
    String product = productName == null ? "" : productName.toLowerCase();
    if (product.contains("postgres")) {
      return new PostgresDialect();
    }
    if (product.contains("mariadb") || product.contains("mysql")) {
      return new MariaDbDialect();
    }
    throw new InvalidConfigException(
        "database", productName, "must be PostgreSQL or MariaDB/MySQL: Arbiter runs on those");
  }
}
