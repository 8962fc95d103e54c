package io.arbiter.examples.features;

import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.Session;
import io.arbiter.sessions.SessionConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Feature: shared web sessions. Two masters (here in one JVM) keep their users' sessions in the
 * shared database: a login made on one is valid on the other, and a logout on either ends it on
 * both. A web server embeds this through {@code io.arbiter.web.ArbiterSessionHandler} (see the demo
 * web app).
 *
 * <pre>java -cp arbiter-examples.jar:... io.arbiter.examples.features.SharedSessionsMain JDBC_URL
 * </pre>
 */
public final class SharedSessionsMain {
  private SharedSessionsMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println(
          "usage: SharedSessionsMain JDBC_URL (jdbc:postgresql://... or jdbc:mariadb://...)");
      System.exit(2);
    }
    run(args[0], System.out);
  }

  /** Runs the example against the database at {@code jdbcUrl}, telling {@code out} what happens. */
  public static void run(String jdbcUrl, PrintStream out) throws InterruptedException {
    try (JdbcArbiter arbiterA = sessionsOnly(jdbcUrl);
        JdbcArbiter arbiterB = sessionsOnly(jdbcUrl);
        ClusterSessions a =
            ClusterSessions.create(arbiterA.sessionStore(), SessionConfig.defaults());
        ClusterSessions b =
            ClusterSessions.create(arbiterB.sessionStore(), SessionConfig.defaults())) {
      Session login = a.login("alice", Map.of("theme", "dark"));
      out.printf("alice logs in on master a: %s%n", login);

      Optional<Session> onB = b.find(login.id());
      out.printf(
          "master b finds the session: %s (theme %s)%n",
          onB.map(Session::principal).orElse("nobody"),
          onB.map(s -> s.attribute("theme")).orElse("-"));

      boolean ended = b.invalidate(login.id());
      long loggedOut = System.nanoTime();
      out.printf("alice logs out on master b: %s%n", ended);
      // Master a may serve the session from its memory for up to the staleness bound, no longer.
      Duration bound = a.config().staleness();
      long deadline = loggedOut + bound.plusSeconds(2).toNanos();
      while (a.find(login.id()).isPresent() && System.nanoTime() - deadline < 0) {
        Thread.sleep(20);
      }
      out.printf(
          "master a finds the session: %s (within %d ms; the staleness bound is %d ms)%n",
          a.find(login.id()).map(Session::principal).orElse("nobody"),
          (System.nanoTime() - loggedOut) / 1_000_000,
          bound.toMillis());
    }
  }

  /**
   * Arbiter for a web server that only keeps sessions: it runs no member, so it needs no heartbeat
   * pool, and two connections serve this example.
   */
  private static JdbcArbiter sessionsOnly(String jdbcUrl) {
    return JdbcArbiter.builder(jdbcUrl).poolSize(2).heartbeatPoolSize(0).createSchema(true).build();
  }
}
