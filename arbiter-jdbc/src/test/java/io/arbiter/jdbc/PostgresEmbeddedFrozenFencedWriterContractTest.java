package io.arbiter.jdbc;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A master frozen inside a fenced write, on the embedded PostgreSQL. */
class PostgresEmbeddedFrozenFencedWriterContractTest extends FrozenFencedWriterContract {
  private static TestDatabase db;

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterAll
  static void dropDatabase() {
    if (db != null) {
      db.close();
    }
  }

  @Override
  protected TestDatabase database() {
    return db;
  }
}
