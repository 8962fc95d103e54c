package io.arbiter.examples.features;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusteredService;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.ServiceContext;
import io.arbiter.jdbc.ArbiterDataSources;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcFence;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/**
 * Feature: a clustered service with a fenced write. Two masters (here in one JVM) register the
 * service {@value #SERVICE}; it runs on one of them at a time, and each of its writes is fenced by
 * its token. When that master stops, the other takes the service over with a higher token, and a
 * write that still carries the old token is rejected by the database.
 *
 * <pre>java -cp arbiter-examples.jar:... io.arbiter.examples.features.FencedServiceMain JDBC_URL
 * </pre>
 */
public final class FencedServiceMain {
  static final String SERVICE = "report-writer";
  static final String TABLE = "example_report";
  private static final Duration LEASE_TTL = Duration.ofSeconds(3);

  private FencedServiceMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println(
          "usage: FencedServiceMain JDBC_URL (jdbc:postgresql://... or jdbc:mariadb://...)");
      System.exit(2);
    }
    run(args[0], System.out);
  }

  /** Runs the example against the database at {@code jdbcUrl}, telling {@code out} what happens. */
  public static void run(String jdbcUrl, PrintStream out) throws Exception {
    ClusterConfig config1 = ClusterConfig.builder("example-1").leaseTtl(LEASE_TTL).build();
    ClusterConfig config2 = ClusterConfig.builder("example-2").leaseTtl(LEASE_TTL).build();
    try (JdbcArbiter arbiter1 =
            JdbcArbiter.builder(jdbcUrl).clusterConfig(config1).createSchema(true).build();
        JdbcArbiter arbiter2 =
            JdbcArbiter.builder(jdbcUrl).clusterConfig(config2).createSchema(true).build();
        // The application's own pool: its table and its fenced writes.
        HikariDataSource app =
            ArbiterDataSources.create(jdbcUrl, null, null, LEASE_TTL, 4, "example-app")) {
      Dialect dialect = arbiter1.dialect();
      createTable(app, dialect);

      // Fences on the application's pool, so that a fenced write joins its transactions.
      JdbcFence fenceOnFirst = arbiter1.fence(app);
      ReportWriter onFirst = new ReportWriter(fenceOnFirst);
      Cluster first =
          Cluster.builder(arbiter1.clusterStore(), config1).service(SERVICE, onFirst).build();
      first.start();
      ServiceContext old = onFirst.awaitStarted();
      onFirst.writeRow();
      out.printf("%s runs %s with token %d%n", old.member(), SERVICE, old.token().value());

      ReportWriter onSecond = new ReportWriter(arbiter2.fence(app));
      Cluster second =
          Cluster.builder(arbiter2.clusterStore(), config2).service(SERVICE, onSecond).build();
      second.start();
      first.close(); // a clean stop: the service moves to example-2 at once
      ServiceContext now = onSecond.awaitStarted();
      onSecond.writeRow();
      out.printf("%s took %s over with token %d%n", now.member(), SERVICE, now.token().value());

      // A write that still carries the old token (as from a master that froze in the middle of its
      // work on example-1) is refused. Here it runs its own transaction and checks the token in
      // it, as code that does not go through JdbcFence.write does.
      try (Connection c = app.getConnection()) {
        c.setAutoCommit(false);
        try {
          fenceOnFirst.check(c, old.token());
          insertRow(c, old);
          c.commit();
          out.println("stale write accepted (this must not happen)");
        } catch (FencingTokenRejectedException e) {
          c.rollback();
          out.printf(
              "stale write with token %d rejected: %s%n", old.token().value(), e.getMessage());
        }
      }
      second.close();
      out.printf("rows written: %s%n", rows(app));
    }
  }

  /** The service: remembers its context and writes one row per call, fenced by its token. */
  private static final class ReportWriter implements ClusteredService {
    private final JdbcFence fence;
    private final AtomicReference<ServiceContext> context = new AtomicReference<>();

    ReportWriter(JdbcFence fence) {
      this.fence = fence;
    }

    @Override
    public void start(ServiceContext ctx) {
      context.set(ctx);
    }

    @Override
    public void stop(ServiceContext ctx) {
      // nothing runs in the background here; a real service would stop its work
    }

    ServiceContext awaitStarted() throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (context.get() == null) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException(SERVICE + " did not start within 30 s");
        }
        Thread.sleep(20);
      }
      return context.get();
    }

    void writeRow() throws SQLException {
      ServiceContext ctx = context.get();
      fence.write(ctx, c -> insertRow(c, ctx));
    }
  }

  private static int insertRow(Connection c, ServiceContext ctx) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + TABLE + " (token, member) VALUES (?, ?)")) {
      ps.setLong(1, ctx.token().value());
      ps.setString(2, ctx.member().name());
      return ps.executeUpdate();
    }
  }

  private static void createTable(DataSource ds, Dialect dialect) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " ("
              + String.format(dialect.tableDdl().autoIncrementKey(), "id")
              + ", token BIGINT NOT NULL, member VARCHAR(64) NOT NULL)"
              + dialect.tableDdl().tableOptions());
    }
  }

  private static String rows(DataSource ds) throws SQLException {
    StringBuilder out = new StringBuilder();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT token, member FROM " + TABLE + " ORDER BY id")) {
      while (rs.next()) {
        out.append(out.length() == 0 ? "" : ", ")
            .append(rs.getString(2))
            .append('@')
            .append(rs.getLong(1));
      }
    }
    return out.toString();
  }
}
