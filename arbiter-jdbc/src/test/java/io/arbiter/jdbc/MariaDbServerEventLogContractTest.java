package io.arbiter.jdbc;

import io.arbiter.spi.EventStore;
import io.arbiter.testkit.EventLogContract;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The event log contract on the MariaDB server named by ARBITER_TEST_MARIADB_URL (skipped if
 * unset).
 */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason =
        "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a MariaDB server to run the contract on it (.ci/run does)")
class MariaDbServerEventLogContractTest extends EventLogContract {
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

  @Override
  protected EventStore openStore(String jdbcUrl) {
    JdbcEventStore store =
        JdbcArbiter.builder(jdbcUrl)
            .leaseTtl(Duration.ofSeconds(1))
            .poolSize(3)
            .heartbeatPoolSize(0) // no member renews here
            .createSchema(true)
            .build()
            .eventStoreClosingAll();
    store.initializeSchema();
    return store;
  }
}
