package io.arbiter.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.SessionConfig;
import io.arbiter.testkit.CountingSessionStore;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * What a logged-in user costs the database: a burst of requests reads the session at most once per
 * staleness bound and does not write at all until the touch interval has passed.
 */
class SessionCostTest {
  private static final int REQUESTS = 500;

  @Test
  void aBurstOfRequestsCostsOneReadPerStalenessBoundAndNoWrites() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    try (TestDatabase db = TestDatabases.embeddedPostgres();
        JdbcArbiter arbiter =
            JdbcArbiter.builder(db.jdbcUrl())
                .poolSize(4)
                .heartbeatPoolSize(0)
                .createSchema(true)
                .build()) {
      CountingSessionStore store = new CountingSessionStore(arbiter.sessionStore());
      try (ClusterSessions sessions = ClusterSessions.create(store, SessionConfig.defaults());
          WebServer web = DemoWebApp.start(0, sessions, "solo", null)) {
        String cookie = sessions.login("frank").id();
        HttpRequest whoami =
            HttpRequest.newBuilder(URI.create(web.baseUrl() + "/whoami"))
                .header("Cookie", SessionConfig.DEFAULT_COOKIE_NAME + "=" + cookie)
                .build();
        long[] micros = new long[REQUESTS];
        long start = System.nanoTime();
        for (int i = 0; i < REQUESTS; i++) {
          long t0 = System.nanoTime();
          HttpResponse<String> r = http.send(whoami, HttpResponse.BodyHandlers.ofString());
          micros[i] = (System.nanoTime() - t0) / 1000;
          assertThat(r.statusCode()).isEqualTo(200);
          Thread.sleep(5); // spread the burst over several staleness windows (at least 2.5 s)
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        long windows = elapsedMs / SessionConfig.DEFAULT_STALENESS.toMillis() + 1;
        // The login filled the cache; each window after the first costs at most one read.
        assertThat(store.reads.get()).isBetween(1, (int) windows + 1);
        assertThat(store.touches.get()).as("no write before the touch interval").isZero();
        Arrays.sort(micros);
        System.out.printf(
            "%d requests in %d ms: %d session reads, %d touches; latency p50 %d us, p99 %d us%n",
            REQUESTS,
            elapsedMs,
            store.reads.get(),
            store.touches.get(),
            micros[REQUESTS / 2],
            micros[REQUESTS * 99 / 100]);
      }
    }
  }
}
