package io.arbiter.examples.features;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.events.ClusterCache;
import io.arbiter.jdbc.ArbiterDataSources;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * Feature: the cluster event log and {@link ClusterCache}. Two masters (here in one JVM) cache a
 * build's status; one changes it and evicts the key in the same transaction, and the other's cache
 * is evicted through the event log, so its next read sees the new status.
 *
 * <pre>java -cp arbiter-examples.jar:... io.arbiter.examples.features.EventLogCacheMain JDBC_URL
 * </pre>
 */
public final class EventLogCacheMain {
  static final String TABLE = "example_build";
  private static final Duration LEASE_TTL = Duration.ofSeconds(3);

  private EventLogCacheMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println(
          "usage: EventLogCacheMain JDBC_URL (jdbc:postgresql://... or jdbc:mariadb://...)");
      System.exit(2);
    }
    run(args[0], System.out);
  }

  /** Runs the example against the database at {@code jdbcUrl}, telling {@code out} what happens. */
  public static void run(String jdbcUrl, PrintStream out) throws Exception {
    ClusterConfig configA = ClusterConfig.builder("cache-a").leaseTtl(LEASE_TTL).build();
    ClusterConfig configB = ClusterConfig.builder("cache-b").leaseTtl(LEASE_TTL).build();
    try (JdbcArbiter arbiterA =
            JdbcArbiter.builder(jdbcUrl).clusterConfig(configA).createSchema(true).build();
        JdbcArbiter arbiterB =
            JdbcArbiter.builder(jdbcUrl).clusterConfig(configB).createSchema(true).build();
        // The application's own pool: its table, its changes and the evictions that go with them.
        HikariDataSource app =
            ArbiterDataSources.create(jdbcUrl, null, null, LEASE_TTL, 4, "example-app")) {
      Dialect dialect = arbiterA.dialect();
      createTable(app, dialect);
      write(app, dialect, "42", "running");

      Cluster a = master(arbiterA, configA);
      Cluster b = master(arbiterB, configB);
      try {
        ClusterCache<String, String> cacheA =
            ClusterCache.<String, String>builder(a.events().orElseThrow(), "build-status").build();
        ClusterCache<String, String> cacheB =
            ClusterCache.<String, String>builder(b.events().orElseThrow(), "build-status").build();

        out.printf("cache-a reads build 42: %s%n", cacheA.get("42", id -> read(app, id)));
        out.printf("cache-b reads build 42: %s%n", cacheB.get("42", id -> read(app, id)));
        out.printf("cache-b has it cached: %s%n", cacheB.getIfPresent("42"));

        // The change and its eviction commit together, or neither does.
        try (Connection c = app.getConnection()) {
          c.setAutoCommit(false);
          upsert(c, dialect, "42", "passed");
          cacheA.invalidate(c, "42");
          c.commit();
        }
        long changed = System.nanoTime();
        out.println("cache-a sets build 42 to passed and evicts it everywhere");

        long deadline = changed + Duration.ofSeconds(10).toNanos();
        while (cacheB.getIfPresent("42") != null && System.nanoTime() - deadline < 0) {
          Thread.sleep(1);
        }
        boolean evicted = cacheB.getIfPresent("42") == null;
        out.printf(
            "cache-b evicted through the event log: %s (within %d ms)%n",
            evicted, (System.nanoTime() - changed) / 1_000_000);
        out.printf("cache-b reads build 42: %s%n", cacheB.get("42", id -> read(app, id)));
        cacheA.close();
        cacheB.close();
      } finally {
        a.close();
        b.close();
      }
    }
  }

  private static Cluster master(JdbcArbiter arbiter, ClusterConfig config)
      throws InterruptedException {
    Cluster c =
        Cluster.builder(arbiter.clusterStore(), config).events(arbiter.eventStore()).build();
    c.start();
    if (!c.awaitActive(Duration.ofSeconds(30))) {
      throw new IllegalStateException(config.memberName() + " did not join within 30 s");
    }
    return c;
  }

  private static void createTable(DataSource ds, Dialect dialect) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (id VARCHAR(64) NOT NULL PRIMARY KEY, status VARCHAR(64) NOT NULL)"
              + dialect.tableDdl().tableOptions());
    }
  }

  private static void write(DataSource ds, Dialect dialect, String id, String status)
      throws SQLException {
    try (Connection c = ds.getConnection()) {
      upsert(c, dialect, id, status);
    }
  }

  private static void upsert(Connection c, Dialect dialect, String id, String status)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + TABLE
                + " (id, status) VALUES (?, ?)"
                + dialect.onConflictUpdate("id", "status"))) {
      ps.setString(1, id);
      ps.setString(2, status);
      ps.executeUpdate();
    }
  }

  private static String read(DataSource ds, String id) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT status FROM " + TABLE + " WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("reading build " + id + ": " + e.getMessage(), e);
    }
  }
}
