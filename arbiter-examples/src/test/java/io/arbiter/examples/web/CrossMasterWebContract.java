package io.arbiter.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.SessionConfig;
import io.arbiter.sessions.SessionIds;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.web.ArbiterSessionHandler;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two masters ("a" and "b"), each with its own connection pool to the same database and its own web
 * app on an ephemeral port: a login on one is valid on the other, a logout on one reaches the other
 * within the staleness bound. Subclasses say which database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CrossMasterWebContract {
  private static final Duration STALENESS = SessionConfig.DEFAULT_STALENESS;
  private static final Pattern SESSION_COOKIE =
      Pattern.compile("(?i)^" + SessionConfig.DEFAULT_COOKIE_NAME + "=([^;]*)(.*)$");

  private TestDatabase db;
  private JdbcArbiter arbiterA;
  private JdbcArbiter arbiterB;
  private ClusterSessions sessionsA;
  private ClusterSessions sessionsB;
  private WebServer a;
  private WebServer b;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A fresh database for this class, dropped at the end. */
  protected abstract TestDatabase database();

  @BeforeAll
  void startMasters() {
    db = database();
    arbiterA = sessionsOnly();
    arbiterB = sessionsOnly();
    sessionsA = ClusterSessions.create(arbiterA.sessionStore(), SessionConfig.defaults());
    sessionsB = ClusterSessions.create(arbiterB.sessionStore(), SessionConfig.defaults());
    a =
        DemoWebApp.start(
            0,
            sessionsA,
            "a",
            app ->
                app.get(
                    "/extra",
                    ctx ->
                        ctx.result(
                            "extra for "
                                + ArbiterSessionHandler.currentPrincipal(ctx).orElse("nobody"))));
    b = DemoWebApp.start(0, sessionsB, "b", null);
  }

  /** Each master's own pool of 4; a web app runs no member, so no heartbeat pool. */
  private JdbcArbiter sessionsOnly() {
    return JdbcArbiter.builder(db.jdbcUrl())
        .poolSize(4)
        .heartbeatPoolSize(0)
        .createSchema(true)
        .build();
  }

  @AfterAll
  void stopMasters() {
    for (AutoCloseable c : new AutoCloseable[] {a, b, sessionsA, sessionsB, arbiterA, arbiterB}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        System.err.println("could not stop " + c + ": " + e);
      }
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void aLoginOnOneMasterIsValidOnTheOtherAndALogoutReachesBothWithinTheStalenessBound()
      throws Exception {
    HttpResponse<String> login =
        postJson(a, "/login", "{\"user\":\"alice\",\"password\":\"arbiter\"}", null);
    assertThat(login.statusCode()).isEqualTo(200);
    assertThat(login.body()).contains("\"principal\":\"alice\"").contains("\"master\":\"a\"");
    String setCookie = sessionCookieHeader(login).orElseThrow();
    assertThat(setCookie)
        .containsIgnoringCase("HttpOnly")
        .containsIgnoringCase("SameSite=Lax")
        .containsIgnoringCase("Path=/")
        .doesNotContainIgnoringCase("Max-Age");
    String cookie = cookieValue(setCookie);
    assertThat(SessionIds.isWellFormed(cookie)).isTrue();

    HttpResponse<String> onB = get(b, "/whoami", cookie);
    assertThat(onB.statusCode()).isEqualTo(200);
    assertThat(onB.body()).contains("\"principal\":\"alice\"").contains("\"master\":\"b\"");
    assertThat(onB.headers().firstValue(DemoWebApp.MASTER_HEADER)).contains("b");
    assertThat(get(a, "/whoami", cookie).statusCode()).isEqualTo(200); // a has it cached now
    assertThat(get(a, "/extra", cookie).body()).isEqualTo("extra for alice");

    HttpResponse<String> logout = post(b, "/logout", "", null, cookie);
    assertThat(logout.statusCode()).isEqualTo(200);
    assertThat(logout.body()).contains("\"loggedOut\":true");
    long loggedOutAt = System.nanoTime();
    assertThat(sessionCookieHeader(logout).orElseThrow()).containsIgnoringCase("Max-Age=0");
    assertThat(get(b, "/whoami", cookie).statusCode()).as("b, at once").isEqualTo(401);

    // a may answer from its cache until the staleness bound has passed, never after.
    long deadline = loggedOutAt + STALENESS.toNanos();
    int status;
    while (true) {
      long sentAt = System.nanoTime();
      status = get(a, "/whoami", cookie).statusCode();
      if (status == 401) {
        break;
      }
      assertThat(status).isEqualTo(200);
      assertThat(sentAt)
          .as("a still answered 200 for a request sent after the bound")
          .isLessThan(deadline);
      Thread.sleep(20);
    }
    System.out.printf(
        "logout on b seen on a after %d ms (bound %d ms)%n",
        (System.nanoTime() - loggedOutAt) / 1_000_000, STALENESS.toMillis());
    assertThat(get(a, "/extra", cookie).body()).isEqualTo("extra for nobody");
  }

  @Test
  void aWrongPasswordIsRefusedAndLeavesNoSession() throws Exception {
    HttpResponse<String> r =
        postJson(a, "/login", "{\"user\":\"mallory\",\"password\":\"guess\"}", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("wrong user name or password");
    assertThat(sessionCookieHeader(r)).isEmpty();
    HttpResponse<String> form = post(b, "/login", "user=mallory&password=", FORM, null);
    assertThat(form.statusCode()).isEqualTo(401);
    assertThat(sessionRows("mallory")).isZero();
  }

  @Test
  void aFormLoginWorksAndBadRequestsGet400() throws Exception {
    HttpResponse<String> r = post(b, "/login", "user=bob&password=arbiter", FORM, null);
    assertThat(r.statusCode()).isEqualTo(200);
    String cookie = cookieValue(sessionCookieHeader(r).orElseThrow());
    assertThat(get(a, "/whoami", cookie).body()).contains("\"principal\":\"bob\"");
    assertThat(sessionRows("bob")).isEqualTo(1);

    assertThat(postJson(a, "/login", "{not json", null).statusCode()).isEqualTo(400);
    assertThat(postJson(a, "/login", "{\"password\":\"arbiter\"}", null).statusCode())
        .isEqualTo(400);
    HttpResponse<String> tooLong =
        postJson(
            a, "/login", "{\"user\":\"" + "u".repeat(300) + "\",\"password\":\"arbiter\"}", null);
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(tooLong.body()).contains("principal").contains("at most 255");
  }

  @Test
  void malformedOrUnknownCookiesGet401NeverAnError() throws Exception {
    List<String> cookies =
        List.of(
            "garbage",
            SessionIds.newId(), // well formed, never issued
            "x".repeat(4000),
            "%00%27%20OR%201%3D1",
            "\"quoted\"",
            "-".repeat(SessionIds.ID_LENGTH));
    for (String cookie : cookies) {
      HttpResponse<String> r = get(b, "/whoami", cookie);
      assertThat(r.statusCode()).as("whoami with cookie %s", cookie).isEqualTo(401);
      assertThat(sessionCookieHeader(r))
          .as("cleared")
          .hasValueSatisfying(h -> assertThat(h).containsIgnoringCase("Max-Age=0"));
      HttpResponse<String> out = post(a, "/logout", "", null, cookie);
      assertThat(out.statusCode()).isEqualTo(200);
      assertThat(out.body()).contains("\"loggedOut\":false");
    }
    assertThat(get(a, "/healthz", "garbage").statusCode()).isEqualTo(200);
  }

  @Test
  void aNewLoginReplacesThePreviousSession() throws Exception {
    String first =
        cookieValue(
            sessionCookieHeader(
                    postJson(a, "/login", "{\"user\":\"carol\",\"password\":\"arbiter\"}", null))
                .orElseThrow());
    HttpResponse<String> again =
        postJson(b, "/login", "{\"user\":\"carol\",\"password\":\"arbiter\"}", first);
    String second = cookieValue(sessionCookieHeader(again).orElseThrow());

    assertThat(second).isNotEqualTo(first);
    assertThat(get(b, "/whoami", first).statusCode()).isEqualTo(401);
    assertThat(get(b, "/whoami", second).statusCode()).isEqualTo(200);
    assertThat(sessionRows("carol")).isEqualTo(1);
  }

  @Test
  void aBrowserFormLoginRedirectsToThePageWhichShowsTheUserOnEveryMaster() throws Exception {
    HttpRequest form =
        HttpRequest.newBuilder(URI.create(a.baseUrl() + "/login"))
            .header("Content-Type", FORM)
            .header("Accept", "text/html,application/xhtml+xml")
            .POST(HttpRequest.BodyPublishers.ofString("user=dan&password=arbiter"))
            .build();
    HttpResponse<String> r = http.send(form, HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(303);
    assertThat(r.headers().firstValue("Location")).contains("/");
    String cookie = cookieValue(sessionCookieHeader(r).orElseThrow());
    HttpResponse<String> page = get(b, "/", cookie);
    assertThat(page.body()).contains("Served by master b").contains("Logged in as <b>dan</b>");
  }

  @Test
  void healthAndThePageNameTheMaster() throws Exception {
    HttpResponse<String> health = get(b, "/healthz", null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"ok\"").contains("\"master\":\"b\"");
    HttpResponse<String> page = get(a, "/", null);
    assertThat(page.body()).contains("Served by master a").contains("Not logged in");
  }

  // ---- HTTP plumbing ----

  private static final String FORM = "application/x-www-form-urlencoded";

  private HttpResponse<String> get(WebServer server, String path, String cookie)
      throws IOException, InterruptedException {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).GET();
    if (cookie != null) {
      r.header("Cookie", SessionConfig.DEFAULT_COOKIE_NAME + "=" + cookie);
    }
    return http.send(
        r.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> postJson(WebServer server, String path, String json, String cookie)
      throws IOException, InterruptedException {
    return post(server, path, json, "application/json", cookie);
  }

  private HttpResponse<String> post(
      WebServer server, String path, String body, String contentType, String cookie)
      throws IOException, InterruptedException {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      r.header("Content-Type", contentType);
    }
    if (cookie != null) {
      r.header("Cookie", SessionConfig.DEFAULT_COOKIE_NAME + "=" + cookie);
    }
    return http.send(
        r.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Optional<String> sessionCookieHeader(HttpResponse<?> r) {
    return r.headers().allValues("Set-Cookie").stream()
        .filter(h -> SESSION_COOKIE.matcher(h).matches())
        .reduce((first, last) -> last);
  }

  private static String cookieValue(String setCookie) {
    Matcher m = SESSION_COOKIE.matcher(setCookie);
    assertThat(m.matches()).isTrue();
    return m.group(1);
  }

  private long sessionRows(String principal) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT COUNT(*) FROM arbiter_session WHERE principal = ?")) {
      ps.setString(1, principal);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
