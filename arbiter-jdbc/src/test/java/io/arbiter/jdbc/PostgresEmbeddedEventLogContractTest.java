package io.arbiter.jdbc;

import io.arbiter.spi.EventStore;
import io.arbiter.testkit.EventLogContract;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The event log contract on the embedded PostgreSQL (runs everywhere, no server needed). */
class PostgresEmbeddedEventLogContractTest extends EventLogContract {
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
