package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;

/**
 * PostgreSQL: clock_timestamp() (not now(), which is frozen at transaction start), LISTEN/NOTIFY.
 */
public final class PostgresDialect implements Dialect {
  /** The channel masters LISTEN on for cluster changes. */
  public static final String CHANNEL = "arbiter_cluster";

  /** The channel event log readers LISTEN on for new events. */
  public static final String EVENT_CHANNEL = "arbiter_event";

  private static final long SCHEMA_LOCK_KEY = 0x41524249544552L; // "ARBITER"

  @Override
  public String name() {
    return "postgresql";
  }

  @Override
  public String now() {
    return "clock_timestamp()";
  }

  /**
   * The timeline of the WAL being written, from the first 8 hex digits of its segment's file name.
   * A hot standby writes none; it answers 0 (its writes fail anyway).
   */
  @Override
  public String generation() {
    return "CASE WHEN pg_is_in_recovery() THEN 0 ELSE ('x' ||"
        + " substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END";
  }

  @Override
  public String synchronousReplication() {
    return "(current_setting('synchronous_standby_names') <> '' AND"
        + " current_setting('synchronous_commit') IN ('on', 'remote_apply'))";
  }

  @Override
  public String nowPlusMillisParam() {
    return "(clock_timestamp() + (? * INTERVAL '1 millisecond'))";
  }

  @Override
  public String millisUntil(String column) {
    return "CAST(FLOOR(EXTRACT(EPOCH FROM (" + column + " - clock_timestamp())) * 1000) AS BIGINT)";
  }

  @Override
  public String shareLockClause() {
    return " FOR SHARE";
  }

  @Override
  public String nowPlusMillis(String millisExpression) {
    return "(clock_timestamp() + (" + millisExpression + " * INTERVAL '1 millisecond'))";
  }

  @Override
  public String insertIfAbsent(String table, String columns, String values, String keyColumn) {
    return "INSERT INTO "
        + table
        + " ("
        + columns
        + ") VALUES ("
        + values
        + ") ON CONFLICT ("
        + keyColumn
        + ") DO NOTHING";
  }

  @Override
  public String onConflictUpdate(String keyColumns, String... columns) {
    StringBuilder sql =
        new StringBuilder(" ON CONFLICT (").append(keyColumns).append(") DO UPDATE SET ");
    for (int i = 0; i < columns.length; i++) {
      sql.append(i == 0 ? "" : ", ").append(columns[i]).append(" = EXCLUDED.").append(columns[i]);
    }
    return sql.toString();
  }

  @Override
  public boolean supportsWritableCte() {
    return true;
  }

  @Override
  public String deleteLimited(String table, String keyColumn, String condition) {
    // PostgreSQL has no DELETE ... LIMIT. The keys go through ARRAY(...), which the planner runs
    // once as an InitPlan: with "key IN (SELECT ... LIMIT n)" it may choose a semi-join that
    // rescans the subquery once per outer row, and since the condition reads the volatile
    // clock_timestamp() each rescan can return other rows, deleting more than n (seen in CI: 7 of
    // 3). The condition is repeated outside so that a row changed after the subquery's snapshot is
    // re-checked on its new version before deletion.
    return "DELETE FROM "
        + table
        + " WHERE "
        + condition
        + " AND "
        + keyColumn
        + " = ANY (ARRAY(SELECT "
        + keyColumn
        + " FROM "
        + table
        + " WHERE "
        + condition
        + " LIMIT ? FOR UPDATE SKIP LOCKED))";
  }

  @Override
  public boolean isForeignKeyViolation(SQLException e) {
    return "23503".equals(e.getSQLState());
  }

  @Override
  public boolean supportsPushNotification() {
    return true;
  }

  @Override
  public Optional<String> notifyStatement(String channel) {
    return Optional.of("NOTIFY " + channel);
  }

  @Override
  public Optional<String> notifyExpression(String channel) {
    return Optional.of("pg_notify('" + channel + "', '')");
  }

  @Override
  public String sessionInitSql() {
    return "SET lock_timeout = '1s'";
  }

  @Override
  public String sessionInitSql(Duration idleTransactionLimit) {
    return "SELECT set_config('lock_timeout', '1s', false),"
        + " set_config('idle_in_transaction_session_timeout', '"
        + Math.max(1, idleTransactionLimit.toMillis())
        + "ms', false)";
  }

  @Override
  public String sessionResetSql() {
    return "RESET lock_timeout; RESET idle_in_transaction_session_timeout";
  }

  @Override
  public IdleTransactionLimit idleTransactionLimit(Duration limit) {
    // SET LOCAL lasts until the end of the transaction; nothing to undo.
    return new IdleTransactionLimit(
        "SET LOCAL idle_in_transaction_session_timeout = " + Math.max(1, limit.toMillis()), null);
  }

  @Override
  public void lockSchema(Connection connection) throws SQLException {
    try (Statement st = connection.createStatement()) {
      // Masters starting together wait here while one creates the schema: longer than the pool's
      // 1 s lock_timeout allows (the socket timeout still bounds it), as MariaDB's GET_LOCK(60).
      st.execute("SET LOCAL lock_timeout = '60s'");
      st.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK_KEY + ")"); // freed at commit
    }
  }

  @Override
  public void unlockSchema(Connection connection) {
    // transaction-scoped: released by the commit or rollback
  }

  @Override
  public Instant readInstant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  @Override
  public boolean isUndefinedTable(SQLException e) {
    return "42P01".equals(e.getSQLState());
  }

  @Override
  public boolean isDuplicateKey(SQLException e) {
    return "23505".equals(e.getSQLState());
  }

  @Override
  public TableDdl tableDdl() {
    return new TableDdl("%s BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ", "");
  }
}
