package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * MariaDB and MySQL (InnoDB): UTC_TIMESTAMP(6) so that no master's session time zone matters, and a
 * polled change counter instead of push notifications.
 */
public final class MariaDbDialect implements Dialect {
  @Override
  public String name() {
    return "mariadb";
  }

  @Override
  public String now() {
    return "UTC_TIMESTAMP(6)";
  }

  @Override
  public String nowPlusMillisParam() {
    return "TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(6))";
  }

  @Override
  public String millisUntil(String column) {
    return "(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), " + column + ") DIV 1000)";
  }

  @Override
  public String shareLockClause() {
    return " LOCK IN SHARE MODE";
  }

  @Override
  public String insertServiceIfAbsent() {
    return "INSERT IGNORE INTO arbiter_service (name, token, weight, required_tag, pinned_to,"
        + " anti_affinity, run_local, changed_epoch) VALUES (?, 0, ?, ?, ?, ?, ?, (SELECT epoch"
        + " FROM arbiter_change WHERE id = 1))";
  }

  @Override
  public String nowPlusMillis(String millisExpression) {
    return "TIMESTAMPADD(MICROSECOND, " + millisExpression + " * 1000, UTC_TIMESTAMP(6))";
  }

  @Override
  public String onConflictUpdate(String keyColumns, String column) {
    return " ON DUPLICATE KEY UPDATE " + column + " = VALUES(" + column + ")";
  }

  @Override
  public String deleteLimited(String table, String keyColumn, String condition) {
    return "DELETE FROM " + table + " WHERE " + condition + " LIMIT ?";
  }

  @Override
  public boolean isForeignKeyViolation(SQLException e) {
    return e.getErrorCode() == 1452;
  }

  @Override
  public boolean supportsPushNotification() {
    return false;
  }

  @Override
  public void signalChange(Connection connection) throws SQLException {
    try (Statement st = connection.createStatement()) {
      st.executeUpdate("UPDATE arbiter_change SET epoch = epoch + 1 WHERE id = 1");
    }
  }

  @Override
  public java.util.Optional<String> heartbeatCall() {
    return java.util.Optional.of("CALL arbiter_heartbeat(?, ?, ?)");
  }

  @Override
  public String sessionInitSql() {
    return "SET SESSION innodb_lock_wait_timeout = 1";
  }

  @Override
  public IdleTransactionLimit idleTransactionLimit(Duration limit) {
    long seconds = Math.max(1, (limit.toMillis() + 999) / 1000);
    return new IdleTransactionLimit(
        "SET SESSION idle_transaction_timeout = " + seconds,
        "SET SESSION idle_transaction_timeout = DEFAULT");
  }

  @Override
  public void lockSchema(Connection connection) throws SQLException {
    try (Statement st = connection.createStatement();
        ResultSet rs = st.executeQuery("SELECT GET_LOCK('arbiter_schema', 60)")) {
      if (!rs.next() || rs.getInt(1) != 1) {
        throw new SQLException("could not take the schema lock within 60 s", "55P03");
      }
    }
  }

  @Override
  public void unlockSchema(Connection connection) throws SQLException {
    try (Statement st = connection.createStatement()) {
      st.execute("DO RELEASE_LOCK('arbiter_schema')");
    }
  }

  @Override
  public Instant readInstant(ResultSet rs, String column) throws SQLException {
    LocalDateTime t = rs.getObject(column, LocalDateTime.class);
    return t == null ? null : t.toInstant(ZoneOffset.UTC);
  }

  @Override
  public boolean isUndefinedTable(SQLException e) {
    return "42S02".equals(e.getSQLState()) || e.getErrorCode() == 1146;
  }

  @Override
  public boolean isDuplicateKey(SQLException e) {
    return e.getErrorCode() == 1062 || "23000".equals(e.getSQLState());
  }

  @Override
  public long insertEvent(
      Connection connection, String topic, String key, byte[] payload, String publisher)
      throws SQLException {
    long seq;
    try (Statement st = connection.createStatement()) {
      // No UPDATE ... RETURNING here; our own write is visible to our next statement.
      if (st.executeUpdate("UPDATE arbiter_event_head SET last_seq = last_seq + 1 WHERE id = 1")
          != 1) {
        throw new SQLException("arbiter_event_head has no row: is the schema at version 2?");
      }
      try (ResultSet rs = st.executeQuery("SELECT last_seq FROM arbiter_event_head WHERE id = 1")) {
        rs.next();
        seq = rs.getLong(1);
      }
    }
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO arbiter_event (seq, topic, event_key, payload, publisher, created_at)"
                + " VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))")) {
      ps.setLong(1, seq);
      ps.setString(2, topic);
      ps.setString(3, key);
      ps.setBytes(4, payload);
      ps.setString(5, publisher);
      ps.executeUpdate();
    }
    return seq; // no push on MariaDB/MySQL: readers poll
  }

  @Override
  public boolean insertsEventInOneStatement() {
    return false;
  }

  @Override
  public String upsertEventPosition() {
    return "INSERT INTO arbiter_event_consumer (member_name, delivered_seq, updated_at)"
        + " VALUES (?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE"
        + " delivered_seq = VALUES(delivered_seq), updated_at = VALUES(updated_at)";
  }

  @Override
  public TableDdl tableDdl() {
    return new TableDdl("%s BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)", " ENGINE=InnoDB");
  }
}
