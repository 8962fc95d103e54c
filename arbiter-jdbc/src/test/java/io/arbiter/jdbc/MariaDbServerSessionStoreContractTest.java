package io.arbiter.jdbc;

import io.arbiter.spi.SessionStore;
import io.arbiter.testkit.SessionStoreContract;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** The session store contract on the MariaDB server in ARBITER_TEST_MARIADB_URL (else skipped). */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason =
        "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a MariaDB server to run the contract on it")
class MariaDbServerSessionStoreContractTest extends SessionStoreContract {
  private static TestDatabase db;

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.mariaDbServer();
  }

  @AfterAll
  static void dropDatabase() {
    if (db != null) {
      db.close();
    }
  }

  /** Each test starts from an empty table (the contract counts rows). */
  @AfterEach
  void emptyTables() throws SQLException {
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("DELETE FROM arbiter_session");
    }
  }

  @Override
  protected SessionStore openStore() {
    return JdbcArbiter.builder(db.jdbcUrl())
        .poolSize(10)
        .heartbeatPoolSize(0) // no member renews here
        .createSchema(true)
        .build()
        .sessionStoreClosingAll();
  }
}
