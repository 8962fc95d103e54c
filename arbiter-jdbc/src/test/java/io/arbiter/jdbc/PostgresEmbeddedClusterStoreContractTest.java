package io.arbiter.jdbc;

import io.arbiter.spi.ClusterStore;
import io.arbiter.testkit.ClusterStoreContract;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The SPI contract on the embedded PostgreSQL (runs everywhere, no server needed). */
class PostgresEmbeddedClusterStoreContractTest extends ClusterStoreContract {
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
  protected ClusterStore openStore(Duration leaseTtl) {
    // A store that closes its arbiter (and so its pools) when the contract closes it.
    return JdbcArbiter.builder(db.jdbcUrl())
        .leaseTtl(leaseTtl)
        .createSchema(true)
        .build()
        .clusterStoreClosingAll();
  }
}
