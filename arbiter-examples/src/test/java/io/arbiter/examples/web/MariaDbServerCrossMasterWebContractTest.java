package io.arbiter.examples.web;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** Two masters' web apps on the MariaDB server in ARBITER_TEST_MARIADB_URL (else skipped). */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason = "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a MariaDB server to run it")
class MariaDbServerCrossMasterWebContractTest extends CrossMasterWebContract {
  @Override
  protected TestDatabase database() {
    return TestDatabases.mariaDbServer();
  }
}
