package example;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusteredService;
import io.arbiter.ServiceContext;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcFence;
import java.time.Duration;

/**
 * The README's example, in a project of its own that depends on Arbiter as a user's would: one
 * master of a cluster with one clustered service, a poller whose writes are fenced by its token.
 *
 * <pre>java -cp ... example.QuickStart JDBC_URL [USER PASSWORD]</pre>
 */
public final class QuickStart {
  private QuickStart() {}

  public static void main(String[] args) throws Exception {
    String user = args.length > 1 ? args[1] : null;
    String password = args.length > 2 ? args[2] : null;
    run(args[0], user, password, "master-1", Duration.ofSeconds(5));
  }

  /** Runs the master {@code name} for {@code duration}, then leaves the cluster cleanly. */
  public static void run(
      String jdbcUrl, String user, String password, String name, Duration duration)
      throws Exception {
    // README: quick-start
    ClusterConfig config = ClusterConfig.builder(name).build();
    try (JdbcArbiter arbiter = JdbcArbiter.builder(jdbcUrl)
        .credentials(user, password)
        .clusterConfig(config)                // the lease TTL is said once, here
        .createSchema(true)                   // create or upgrade Arbiter's tables
        .build()) {
      JdbcFence fence = arbiter.fence();
      GitPoller poller = new GitPoller(fence);
      Cluster cluster = Cluster.builder(arbiter.clusterStore(), config)
          .service("git-poller", new ClusteredService() {
            public void start(ServiceContext ctx) { poller.start(ctx); } // runs here now, under ctx.token()
            public void stop(ServiceContext ctx)  { poller.stop(); }     // must not act after this returns
          })
          .build();
      cluster.start();                        // joins in the background; retries while the database is away
      Thread.sleep(duration.toMillis());      // ... your server runs ...
      cluster.close();                        // stops services, then releases them and leaves
    }
    // README: end
  }
}
