package io.arbiter.jdbc;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The heartbeat's own connection, on the embedded PostgreSQL. */
class PostgresEmbeddedHeartbeatIsolationContractTest extends HeartbeatIsolationContract {
  private static TestDatabase db;

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
  }

  @Override
  protected TestDatabase database() {
    return db;
  }
}
