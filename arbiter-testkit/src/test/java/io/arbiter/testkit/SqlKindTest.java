package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SqlKindTest {
  @Test
  void commitsAndTheirSynonymsAreCommits() {
    assertThat(SqlKind.of("COMMIT")).isEqualTo(SqlKind.COMMIT);
    assertThat(SqlKind.of("  commit work;")).isEqualTo(SqlKind.COMMIT);
    assertThat(SqlKind.of("END")).isEqualTo(SqlKind.COMMIT);
    assertThat(SqlKind.of("/* driver */ COMMIT")).isEqualTo(SqlKind.COMMIT);
  }

  @Test
  void writesAreTheStatementsThatChangeRows() {
    assertThat(SqlKind.of("INSERT INTO t VALUES (1)")).isEqualTo(SqlKind.WRITE);
    assertThat(SqlKind.of("update t set a = 1")).isEqualTo(SqlKind.WRITE);
    assertThat(SqlKind.of("DELETE FROM t")).isEqualTo(SqlKind.WRITE);
    assertThat(SqlKind.of("WITH x AS (UPDATE t SET a = 1 RETURNING a) SELECT * FROM x"))
        .isEqualTo(SqlKind.WRITE);
    assertThat(SqlKind.of("SELECT a FROM t FOR UPDATE")).isEqualTo(SqlKind.OTHER);
    assertThat(SqlKind.of("WITH x AS (SELECT 1) SELECT * FROM x")).isEqualTo(SqlKind.OTHER);
    assertThat(SqlKind.of("set autocommit=0")).isEqualTo(SqlKind.OTHER);
  }

  @Test
  void transactionBoundaries() {
    assertThat(SqlKind.of("BEGIN")).isEqualTo(SqlKind.BEGIN);
    assertThat(SqlKind.of("START TRANSACTION")).isEqualTo(SqlKind.BEGIN);
    assertThat(SqlKind.of("ROLLBACK")).isEqualTo(SqlKind.ROLLBACK);
    assertThat(SqlKind.of("ROLLBACK TO SAVEPOINT s1")).isEqualTo(SqlKind.OTHER);
    assertThat(SqlKind.ofScript("BEGIN; INSERT INTO t VALUES (1); COMMIT;"))
        .containsExactly(SqlKind.BEGIN, SqlKind.WRITE, SqlKind.COMMIT);
  }
}
