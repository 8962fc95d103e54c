package io.arbiter.jdbc;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;

/** Schema migrations on the embedded PostgreSQL. */
class PostgresEmbeddedSchemaMigrationContractTest extends SchemaMigrationContract {
  @Override
  protected TestDatabase freshDatabase() {
    return TestDatabases.embeddedPostgres();
  }
}
