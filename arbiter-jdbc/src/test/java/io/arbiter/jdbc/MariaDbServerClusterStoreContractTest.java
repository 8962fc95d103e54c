package io.arbiter.jdbc;

import io.arbiter.spi.ClusterStore;
import io.arbiter.testkit.ClusterStoreContract;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** The SPI contract on the MariaDB server named by ARBITER_TEST_MARIADB_URL (skipped if unset). */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason =
        "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a MariaDB server to run the contract on it (.ci/run does)")
class MariaDbServerClusterStoreContractTest extends ClusterStoreContract {
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

  /** MariaDB's heartbeat procedure reads the rows after the renewal: the age is not measured. */
  @Override
  protected boolean measuresOwnRenewalAge() {
    return false;
  }

  @Override
  protected ClusterStore openStore(Duration leaseTtl) {
    // A store that closes its arbiter (and so its pools) when the contract closes it.
    return JdbcArbiter.builder(db.jdbcUrl())
        .leaseTtl(leaseTtl)
        .createSchema(true)
        .build()
        .clusterStoreClosingAll();
  }
}
