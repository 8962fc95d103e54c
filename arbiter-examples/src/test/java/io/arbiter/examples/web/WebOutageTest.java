package io.arbiter.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.SessionConfig;
import io.arbiter.testkit.FaultProxy;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The session database goes away under a running web app: requests that need a session get a clear
 * 503 (never a 200 beyond the staleness bound, never a stack trace), routes that do not need one
 * keep working, and everything recovers when the database is back.
 */
class WebOutageTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void withoutTheDatabaseSessionRoutesAnswer503AndRecover() throws Exception {
    try (TestDatabase db = TestDatabases.embeddedPostgres();
        FaultProxy proxy = FaultProxy.forUrl(db.jdbcUrl());
        JdbcArbiter arbiter = sessionsOnly(proxy.jdbcUrl(db.jdbcUrl()));
        ClusterSessions sessions =
            ClusterSessions.create(arbiter.sessionStore(), SessionConfig.defaults());
        WebServer web = DemoWebApp.start(0, sessions, "solo", null)) {
      String cookie = sessions.login("erin").id();
      assertThat(whoami(web, cookie).statusCode()).isEqualTo(200);

      proxy.mode(FaultProxy.Mode.RESET);
      Thread.sleep(SessionConfig.DEFAULT_STALENESS.toMillis() + 50); // past the cache's trust

      HttpResponse<String> down = whoami(web, cookie);
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(down.body()).contains("session database is not reachable").contains("solo");
      assertThat(get(web, "/healthz").statusCode()).isEqualTo(200);

      proxy.mode(FaultProxy.Mode.OPEN);
      Awaitility.await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> whoami(web, cookie).statusCode() == 200);
    }
  }

  @Test
  void aMasterStartsWhileTheDatabaseIsDownAndServesLoginsOnceItIsBack() throws Exception {
    try (TestDatabase db = TestDatabases.embeddedPostgres();
        FaultProxy proxy = FaultProxy.forUrl(db.jdbcUrl())) {
      proxy.mode(FaultProxy.Mode.RESET);
      try (JdbcArbiter arbiter = sessionsOnly(proxy.jdbcUrl(db.jdbcUrl()));
          ClusterSessions sessions =
              ClusterSessions.create(arbiter.sessionStore(), SessionConfig.defaults());
          WebServer web = DemoWebApp.start(0, sessions, "early", null)) {
        assertThat(get(web, "/healthz").statusCode()).isEqualTo(200);
        assertThat(login(web).statusCode()).isEqualTo(503);

        proxy.mode(FaultProxy.Mode.OPEN);
        Awaitility.await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> login(web).statusCode() == 200); // the schema is created on first use
      }
    }
  }

  /** A web app's pool of 2 (it runs no member, so no heartbeat pool). */
  private static JdbcArbiter sessionsOnly(String jdbcUrl) {
    return JdbcArbiter.builder(jdbcUrl).poolSize(2).heartbeatPoolSize(0).createSchema(true).build();
  }

  private HttpResponse<String> login(WebServer web) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(web.baseUrl() + "/login"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString("{\"user\":\"gil\",\"password\":\"arbiter\"}"))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> whoami(WebServer web, String cookie) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(web.baseUrl() + "/whoami"))
            .header("Cookie", SessionConfig.DEFAULT_COOKIE_NAME + "=" + cookie)
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(WebServer web, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(web.baseUrl() + path))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
