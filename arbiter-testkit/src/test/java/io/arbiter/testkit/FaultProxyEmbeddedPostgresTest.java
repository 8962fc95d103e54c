package io.arbiter.testkit;

/** {@link FaultProxyContract} on the embedded PostgreSQL. */
class FaultProxyEmbeddedPostgresTest extends FaultProxyContract {
  @Override
  protected TestDatabase database() {
    return TestDatabases.embeddedPostgres();
  }
}
