package io.arbiter.examples.web;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;

/** Two masters' web apps on the embedded PostgreSQL (runs everywhere). */
class PostgresEmbeddedCrossMasterWebContractTest extends CrossMasterWebContract {
  @Override
  protected TestDatabase database() {
    return TestDatabases.embeddedPostgres();
  }
}
