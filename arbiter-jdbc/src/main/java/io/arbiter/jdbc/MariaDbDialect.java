package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

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
  public String nowPlusMillis(String millisExpression) {
    return "TIMESTAMPADD(MICROSECOND, " + millisExpression + " * 1000, UTC_TIMESTAMP(6))";
  }

  @Override
  public String insertIfAbsent(String table, String columns, String values, String keyColumn) {
    return "INSERT IGNORE INTO " + table + " (" + columns + ") VALUES (" + values + ")";
  }

  @Override
  public String onConflictUpdate(String keyColumns, String... columns) {
    StringBuilder sql = new StringBuilder(" ON DUPLICATE KEY UPDATE ");
    for (int i = 0; i < columns.length; i++) {
      sql.append(i == 0 ? "" : ", ")
          .append(columns[i])
          .append(" = VALUES(")
          .append(columns[i])
          .append(")");
    }
    return sql.toString();
  }

  @Override
  public boolean supportsWritableCte() {
    return false;
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
  public Optional<String> notifyStatement(String channel) {
    return Optional.empty();
  }

  @Override
  public Optional<String> notifyExpression(String channel) {
    return Optional.empty();
  }

  @Override
  public String sessionInitSql() {
    return "SET SESSION innodb_lock_wait_timeout = 1";
  }

  @Override
  public String sessionInitSql(Duration idleTransactionLimit) {
    // The part in /*M! ... */ runs on MariaDB only; MySQL has no idle_transaction_timeout and
    // reads it as a comment (JdbcFence says so loudly at its first write).
    return "SET SESSION innodb_lock_wait_timeout = 1 /*M!, SESSION idle_transaction_timeout = "
        + seconds(idleTransactionLimit)
        + " */";
  }

  @Override
  public String sessionResetSql() {
    return "SET SESSION innodb_lock_wait_timeout = DEFAULT /*M!, SESSION idle_transaction_timeout"
        + " = DEFAULT */";
  }

  @Override
  public IdleTransactionLimit idleTransactionLimit(Duration limit) {
    return idleTransactionLimit(limit, null);
  }

  @Override
  public IdleTransactionLimit idleTransactionLimit(Duration limit, Duration restoreTo) {
    return new IdleTransactionLimit(
        "SET SESSION idle_transaction_timeout = " + seconds(limit),
        "SET SESSION idle_transaction_timeout = "
            + (restoreTo == null ? "DEFAULT" : String.valueOf(seconds(restoreTo))));
  }

  /** Whole seconds, at least one: MariaDB's timeouts take no fractions. */
  private static long seconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000);
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
  public TableDdl tableDdl() {
    return new TableDdl("%s BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)", " ENGINE=InnoDB");
  }
}
