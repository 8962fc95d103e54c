package io.arbiter.testkit;

/** {@link FaultProxyContract} on the MariaDB server of {@value TestDatabases#MARIADB_ENV}. */
class FaultProxyMariaDbServerTest extends FaultProxyContract {
  @Override
  protected TestDatabase database() {
    return TestDatabases.mariaDbServer();
  }
}
