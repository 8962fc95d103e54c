package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.testkit.EmbeddedPostgresReplication.Mode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The replica streams what the primary commits, refuses writes, and takes them once promoted. */
class EmbeddedPostgresReplicationTest {

  @Test
  void aSynchronousReplicaHasEveryAcknowledgedCommitAfterTheFailover() throws Exception {
    try (EmbeddedPostgresReplication db = EmbeddedPostgresReplication.start(Mode.SYNCHRONOUS)) {
      String oldPrimary = db.primaryUrl();
      execute(oldPrimary, "CREATE TABLE t (n int)");
      for (int i = 1; i <= 50; i++) {
        execute(oldPrimary, "INSERT INTO t VALUES (" + i + ")");
      }
      assertThatThrownBy(() -> execute(db.replicaUrl(), "INSERT INTO t VALUES (0)"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25006"));

      db.failOver();

      assertThat(db.primaryUrl()).isNotEqualTo(oldPrimary);
      assertThat(count(db.primaryUrl())).isEqualTo(50);
      execute(db.primaryUrl(), "INSERT INTO t VALUES (51)");
      assertThat(count(db.primaryUrl())).isEqualTo(51);
      assertThatThrownBy(() -> DriverManager.getConnection(oldPrimary).close())
          .isInstanceOf(SQLException.class);
    }
  }

  @Test
  void aRebuiltPairFailsOverAgainWithEveryCommit() throws Exception {
    try (EmbeddedPostgresReplication db = EmbeddedPostgresReplication.start(Mode.SYNCHRONOUS)) {
      execute(db.primaryUrl(), "CREATE TABLE t (n int)");
      execute(db.primaryUrl(), "INSERT INTO t VALUES (1)");
      db.failOver();
      execute(db.primaryUrl(), "INSERT INTO t VALUES (2)");
      int promotedPort = db.primaryPort();

      db.rebuildReplica();
      db.stopPrimary();
      assertThatThrownBy(() -> execute(db.primaryUrl(), "SELECT 1"))
          .isInstanceOf(SQLException.class);
      db.startPrimary();
      db.startPrimary(); // started already: nothing to do

      assertThat(db.primaryPort())
          .as("the promoted primary keeps its port")
          .isEqualTo(promotedPort);
      execute(db.primaryUrl(), "INSERT INTO t VALUES (3)");
      assertThatThrownBy(() -> execute(db.replicaUrl(), "INSERT INTO t VALUES (0)"))
          .isInstanceOf(SQLException.class);
      db.failOver();
      assertThat(db.primaryPort()).isNotEqualTo(promotedPort);
      assertThat(count(db.primaryUrl())).isEqualTo(3);
      assertThat(timeline(db.primaryUrl())).as("timeline after two promotions").isEqualTo(3);
    }
  }

  private static long timeline(String url) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void anAsynchronousReplicaIsPromotedAndTakesWrites() throws Exception {
    try (EmbeddedPostgresReplication db = EmbeddedPostgresReplication.start(Mode.ASYNCHRONOUS)) {
      execute(db.primaryUrl(), "CREATE TABLE t (n int)");
      db.failOver();
      // The table may or may not have reached the replica before the kill: that is async.
      execute(db.primaryUrl(), "CREATE TABLE IF NOT EXISTS t (n int)");
      execute(db.primaryUrl(), "INSERT INTO t VALUES (1)");
      assertThat(count(db.primaryUrl())).isGreaterThanOrEqualTo(1);
    }
  }

  private static void execute(String url, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static long count(String url) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
