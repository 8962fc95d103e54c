package io.arbiter.examples.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each runnable feature example, run on a fresh database of the embedded PostgreSQL. */
class FeatureExamplesTest {
  private TestDatabase db;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @BeforeEach
  void freshDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterEach
  void dropDatabase() {
    System.out.print(printed());
    db.close();
  }

  private String printed() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void fencedServiceMovesWithAHigherTokenAndTheStaleWriteIsRejected() throws Exception {
    FencedServiceMain.run(db.jdbcUrl(), out);

    assertThat(printed())
        .contains("example-1#1 runs report-writer with token 1")
        .contains("example-2#1 took report-writer over with token 2")
        .contains("stale write with token 1 rejected")
        .doesNotContain("must not happen")
        .contains("rows written: example-1@1, example-2@2");
    // What the database kept: one row per token, none with the stale token after the new one.
    List<String> rows = new ArrayList<>();
    try (Connection c = db.connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT member, token FROM " + FencedServiceMain.TABLE + " ORDER BY id")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + "@" + rs.getLong(2));
      }
    }
    assertThat(rows).containsExactly("example-1@1", "example-2@2");
  }

  @Test
  void aChangeOnOneMasterEvictsTheOthersCacheThroughTheEventLog() throws Exception {
    EventLogCacheMain.run(db.jdbcUrl(), out);

    assertThat(printed())
        .contains("cache-a reads build 42: running")
        .contains("cache-b has it cached: running")
        .contains("cache-b evicted through the event log: true")
        .containsPattern("cache-b reads build 42: passed\\R");
  }

  @Test
  void aLoginOnOneMasterIsValidOnTheOtherAndALogoutEndsItOnBoth() throws Exception {
    SharedSessionsMain.run(db.jdbcUrl(), out);

    assertThat(printed())
        .contains("master b finds the session: alice (theme dark)")
        .contains("alice logs out on master b: true")
        .contains("master a finds the session: nobody");
  }
}
