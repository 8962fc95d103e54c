package io.arbiter.jdbc;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Schema migrations on the MariaDB server in ARBITER_TEST_MARIADB_URL. */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason = "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a server to run it")
class MariaDbServerSchemaMigrationContractTest extends SchemaMigrationContract {
  @Override
  protected TestDatabase freshDatabase() {
    return TestDatabases.mariaDbServer();
  }
}
