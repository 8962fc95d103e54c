package io.arbiter.jdbc;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** A master frozen inside a fenced write, on the MariaDB server in ARBITER_TEST_MARIADB_URL. */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason = "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a MariaDB server to run it")
class MariaDbServerFrozenFencedWriterContractTest extends FrozenFencedWriterContract {
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

  @Override
  protected TestDatabase database() {
    return db;
  }
}
