package io.arbiter.jdbc;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Schema migrations on the PostgreSQL server in ARBITER_TEST_POSTGRES_URL. */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_POSTGRES_URL",
    matches = ".+",
    disabledReason = "set ARBITER_TEST_POSTGRES_URL to a JDBC URL of a server to run it")
class PostgresServerSchemaMigrationContractTest extends SchemaMigrationContract {
  @Override
  protected TestDatabase freshDatabase() {
    return TestDatabases.postgresServer();
  }
}
