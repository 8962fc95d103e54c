package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Runs the README's example against an embedded PostgreSQL, from outside Arbiter's own build. */
class QuickStartTest {
  @Test
  void theReadmeExampleRunsAServiceWhoseWritesCarryItsToken() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      QuickStart.run(url, null, null, "master-1", Duration.ofSeconds(3));
      QuickStart.run(url, null, null, "master-2", Duration.ofSeconds(2));

      try (Connection c = pg.getPostgresDatabase().getConnection();
          Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT member, min(token), max(token), count(*) FROM git_poll"
                      + " GROUP BY member ORDER BY min(token)")) {
        assertTrue(rs.next(), "master-1 polled");
        assertTrue(rs.getString(1).startsWith("master-1#"), rs.getString(1));
        assertEquals(rs.getLong(2), rs.getLong(3), "one token per run");
        long first = rs.getLong(2);
        assertTrue(rs.getLong(4) > 5, "master-1 polled " + rs.getLong(4) + " times");
        assertTrue(rs.next(), "master-2 polled");
        assertTrue(rs.getString(1).startsWith("master-2#"), rs.getString(1));
        assertTrue(rs.getLong(2) > first, "the second run holds a higher token");
      }
    }
  }
}
