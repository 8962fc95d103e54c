package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;

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
  public String insertServiceIfAbsent() {
    return "INSERT INTO arbiter_service (name, token, weight, required_tag, pinned_to,"
        + " anti_affinity, run_local, changed_epoch) VALUES (?, 0, ?, ?, ?, ?, ?, (SELECT epoch"
        + " FROM arbiter_change WHERE id = 1)) ON CONFLICT (name) DO NOTHING";
  }

  @Override
  public String nowPlusMillis(String millisExpression) {
    return "(clock_timestamp() + (" + millisExpression + " * INTERVAL '1 millisecond'))";
  }

  @Override
  public String onConflictUpdate(String keyColumns, String column) {
    return " ON CONFLICT (" + keyColumns + ") DO UPDATE SET " + column + " = EXCLUDED." + column;
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
  public void signalChange(Connection connection) throws SQLException {
    // The epoch is what every master reads back in its heartbeat (the truth); the NOTIFY only
    // wakes them sooner. Both take effect only if the transaction commits.
    try (Statement st = connection.createStatement()) {
      st.executeUpdate("UPDATE arbiter_change SET epoch = epoch + 1 WHERE id = 1");
      st.execute("NOTIFY " + CHANNEL);
    }
  }

  @Override
  public String sessionInitSql() {
    return "SET lock_timeout = '1s'";
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
  public long insertEvent(
      Connection connection, String topic, String key, byte[] payload, String publisher)
      throws SQLException {
    // One statement: bump the head, insert under the new number, and NOTIFY (sent at commit).
    try (PreparedStatement ps =
        connection.prepareStatement(
            "WITH h AS (UPDATE arbiter_event_head SET last_seq = last_seq + 1 WHERE id = 1"
                + " RETURNING last_seq),"
                + " e AS (INSERT INTO arbiter_event (seq, topic, event_key, payload, publisher,"
                + " created_at) SELECT last_seq, ?, ?, ?, ?, clock_timestamp() FROM h RETURNING seq)"
                + " SELECT seq, pg_notify('"
                + EVENT_CHANNEL
                + "', '') FROM e")) {
      ps.setString(1, topic);
      ps.setString(2, key);
      ps.setBytes(3, payload);
      ps.setString(4, publisher);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("arbiter_event_head has no row: is the schema at version 2?");
        }
        return rs.getLong(1);
      }
    }
  }

  @Override
  public boolean insertsEventInOneStatement() {
    return true;
  }

  @Override
  public String upsertEventPosition() {
    return "INSERT INTO arbiter_event_consumer (member_name, delivered_seq, updated_at)"
        + " VALUES (?, ?, clock_timestamp()) ON CONFLICT (member_name) DO UPDATE"
        + " SET delivered_seq = EXCLUDED.delivered_seq, updated_at = EXCLUDED.updated_at";
  }

  @Override
  public TableDdl tableDdl() {
    return new TableDdl("%s BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ", "");
  }
}
