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

/** The session store contract on the embedded PostgreSQL (runs everywhere, no server needed). */
class PostgresEmbeddedSessionStoreContractTest extends SessionStoreContract {
  private static TestDatabase db;

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
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
