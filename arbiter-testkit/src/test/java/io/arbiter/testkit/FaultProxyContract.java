package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What {@link FaultProxy}'s lost acknowledgements must do on every database it fronts: a
 * transaction whose COMMIT was cut has committed although its client got an SQLException. Each
 * database's test subclasses this with {@link #database()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class FaultProxyContract {
  private TestDatabase db;
  private FaultProxy proxy;

  /** A fresh database of the kind under test; closed after the class. */
  protected abstract TestDatabase database();

  @BeforeAll
  void start() throws Exception {
    db = database();
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE proxy_row (id INT PRIMARY KEY, note VARCHAR(40))");
    }
    proxy = FaultProxy.forUrl(db.jdbcUrl());
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @BeforeEach
  void disarm() {
    proxy.stopCutting();
  }

  @Test
  void aWriteCommitThatWasCutHasCommittedWhileTheClientHeardAnError() throws Exception {
    int cutsBefore = proxy.cuts();
    try (Connection c = viaProxy()) {
      c.setAutoCommit(false);
      insert(c, 1);
      proxy.cutAfterWriteCommits(1);
      assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
    }
    assertThat(proxy.cuts()).isEqualTo(cutsBefore + 1);
    assertThat(rowExists(1)).as("the row whose COMMIT was cut").isTrue();

    // One cut was armed: the next write commits and is acknowledged.
    try (Connection c = viaProxy()) {
      c.setAutoCommit(false);
      insert(c, 2);
      c.commit();
    }
    assertThat(rowExists(2)).isTrue();
  }

  @Test
  void writeCommitCutsSkipTransactionsThatOnlyRead() throws Exception {
    try (Connection c = viaProxy()) {
      c.setAutoCommit(false);
      proxy.cutAfterWriteCommits(1);
      count(c);
      c.commit(); // read only: not cut
      insert(c, 10);
      assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
    }
    assertThat(rowExists(10)).isTrue();
  }

  @Test
  void commitCutsTakeAnyCommit() throws Exception {
    try (Connection c = viaProxy()) {
      c.setAutoCommit(false);
      // A lock makes a transaction that did not write, which both drivers commit.
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT id FROM proxy_row FOR UPDATE")) {
        while (rs.next()) {
          // read them all
        }
      }
      proxy.cutAfterCommits(1);
      assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
    }
  }

  @Test
  void aCommitRepeatedManyTimesIsStillFound() throws Exception {
    // The PostgreSQL driver prepares a statement on the server after a few uses and then sends
    // only a Bind of it: the proxy must still know that it is a COMMIT.
    try (Connection c = viaProxy()) {
      c.setAutoCommit(false);
      for (int id = 20; id < 30; id++) {
        insert(c, id);
        c.commit();
      }
      insert(c, 30);
      proxy.cutAfterWriteCommits(1);
      assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
    }
    assertThat(rowExists(30)).isTrue();
  }

  @Test
  void stopCuttingDisarms() throws Exception {
    proxy.cutAfterWriteCommits(Integer.MAX_VALUE);
    proxy.cutAfterClientBytes(1);
    proxy.stopCutting();
    try (Connection c = viaProxy()) {
      c.setAutoCommit(false);
      insert(c, 40);
      c.commit();
    }
    assertThat(rowExists(40)).isTrue();
  }

  @Test
  void aCutAfterSomeClientBytesEndsTheConnectionCarryingThem() throws Exception {
    try (Connection c = viaProxy()) {
      int cutsBefore = proxy.cuts();
      proxy.cutAfterClientBytes(3);
      assertThatThrownBy(() -> count(c)).isInstanceOf(SQLException.class);
      assertThat(proxy.cuts()).isEqualTo(cutsBefore + 1);
    }
    try (Connection c = viaProxy()) {
      count(c); // one cut: new connections work
    }
  }

  private Connection viaProxy() throws SQLException {
    return DriverManager.getConnection(proxy.jdbcUrl(db.jdbcUrl()));
  }

  private static void insert(Connection c, int id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO proxy_row VALUES (?, ?)")) {
      ps.setInt(1, id);
      ps.setString(2, "row " + id);
      ps.executeUpdate();
    }
  }

  private static long count(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM proxy_row")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private boolean rowExists(int id) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement("SELECT 1 FROM proxy_row WHERE id = ?")) {
      ps.setInt(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
