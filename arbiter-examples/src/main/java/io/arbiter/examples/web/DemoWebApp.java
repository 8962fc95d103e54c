package io.arbiter.examples.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.StoreUnavailableException;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.InvalidSessionDataException;
import io.arbiter.sessions.Session;
import io.arbiter.web.ArbiterSessionHandler;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's web app, one per master: log in on any master and stay logged in on all of them.
 *
 * <ul>
 *   <li>{@code POST /login} with {@code user} and {@code password} (a form or a JSON object): any
 *       user name with the password {@value #DEMO_PASSWORD}; 200 and the session cookie, or 401.
 *   <li>{@code GET /whoami}: 200 with the principal, or 401.
 *   <li>{@code POST /logout}: ends the session on every master.
 *   <li>{@code GET /healthz}: 200 while the server runs (no database access).
 *   <li>{@code GET /}: a small page with a login form.
 * </ul>
 *
 * <p>Every response names the master that served it (the {@value #MASTER_HEADER} header, and a
 * {@code master} field in JSON), so a user sees which master answered.
 */
public final class DemoWebApp {
  /** The demo's one password (any user name). A demo only: there are no real accounts. */
  public static final String DEMO_PASSWORD = "arbiter";

  /** The response header that names the master. */
  public static final String MASTER_HEADER = "X-Arbiter-Master";

  private static final Logger log = LoggerFactory.getLogger(DemoWebApp.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ClusterSessions sessions;
  private final String masterName;

  private DemoWebApp(ClusterSessions sessions, String masterName) {
    this.sessions = sessions;
    this.masterName = masterName;
  }

  /** Starts the app on 127.0.0.1; port 0 picks a free port (see {@link WebServer#port()}). */
  public static WebServer start(
      int port, ClusterSessions sessions, String masterName, Consumer<Javalin> extraRoutes) {
    return start("127.0.0.1", port, sessions, masterName, extraRoutes);
  }

  /**
   * Starts the app on {@code host} ("0.0.0.0" for every interface).
   *
   * @param extraRoutes adds more routes (a cache page, say); called after the session handler and
   *     the demo's routes are installed, so its routes can use {@link ArbiterSessionHandler}'s
   *     helpers; may be null
   */
  public static WebServer start(
      String host,
      int port,
      ClusterSessions sessions,
      String masterName,
      Consumer<Javalin> extraRoutes) {
    DemoWebApp demo = new DemoWebApp(sessions, masterName);
    Javalin app =
        Javalin.create(
            config -> {
              config.showJavalinBanner = false;
              config.startupWatcherEnabled = false;
            });
    ArbiterSessionHandler.install(app, sessions);
    demo.routes(app);
    if (extraRoutes != null) {
      extraRoutes.accept(app);
    }
    try {
      app.start(host, port);
    } catch (RuntimeException e) {
      app.stop();
      throw new io.arbiter.ArbiterException(
          "could not start the web app of master " + masterName + " on " + host + ":" + port, e);
    }
    log.info("master {} serves the web app at http://{}:{}", masterName, host, app.port());
    return new WebServer(app, host);
  }

  private void routes(Javalin app) {
    app.before(ctx -> ctx.header(MASTER_HEADER, masterName));
    app.exception(
        StoreUnavailableException.class,
        (e, ctx) -> {
          log.warn(
              "master {}: the session database did not answer: {}", masterName, e.getMessage());
          ctx.status(HttpStatus.SERVICE_UNAVAILABLE)
              .json(body("error", "the session database is not reachable; try again"));
        });
    app.get("/healthz", ctx -> ctx.json(body("status", "ok")));
    app.get("/whoami", this::whoami);
    app.post("/login", this::login);
    app.post("/logout", this::logout);
    app.get("/", this::page);
  }

  private void whoami(Context ctx) {
    Optional<Session> session = ArbiterSessionHandler.currentSession(ctx);
    if (session.isEmpty()) {
      ctx.status(HttpStatus.UNAUTHORIZED).json(body("error", "not logged in"));
      return;
    }
    Map<String, Object> out = body("principal", session.get().principal());
    out.put("since", session.get().createdAt().toString());
    ctx.json(out);
  }

  private void login(Context ctx) {
    String user;
    String password;
    String type = ctx.contentType() == null ? "" : ctx.contentType();
    if (type.startsWith("application/json")) {
      JsonNode node;
      try {
        node = JSON.readTree(ctx.body());
      } catch (JsonProcessingException e) {
        ctx.status(HttpStatus.BAD_REQUEST).json(body("error", "the body is not valid JSON"));
        return;
      }
      user = node != null && node.hasNonNull("user") ? node.get("user").asText() : null;
      password = node != null && node.hasNonNull("password") ? node.get("password").asText() : null;
    } else {
      user = ctx.formParam("user");
      password = ctx.formParam("password");
    }
    if (user == null || user.isBlank() || password == null) {
      ctx.status(HttpStatus.BAD_REQUEST)
          .json(body("error", "send user and password (a form or a JSON object)"));
      return;
    }
    if (!constantTimeEquals(password, DEMO_PASSWORD)) {
      ctx.status(HttpStatus.UNAUTHORIZED).json(body("error", "wrong user name or password"));
      return;
    }
    try {
      Session session = ArbiterSessionHandler.login(ctx, user.strip());
      log.info("master {}: {} logged in", masterName, session.principal());
      if (wantsPage(ctx)) {
        ctx.redirect("/", HttpStatus.SEE_OTHER); // a browser's form: back to the page
        return;
      }
      ctx.json(body("principal", session.principal()));
    } catch (InvalidSessionDataException e) {
      ctx.status(HttpStatus.BAD_REQUEST).json(body("error", e.getMessage()));
    }
  }

  private void logout(Context ctx) {
    Optional<String> who = ArbiterSessionHandler.currentPrincipal(ctx);
    boolean ended = ArbiterSessionHandler.logout(ctx);
    who.ifPresent(p -> log.info("master {}: {} logged out", masterName, p));
    if (wantsPage(ctx)) {
      ctx.redirect("/", HttpStatus.SEE_OTHER);
      return;
    }
    ctx.json(body("loggedOut", ended));
  }

  private void page(Context ctx) {
    Optional<String> who = ArbiterSessionHandler.currentPrincipal(ctx);
    String status = who.map(p -> "Logged in as <b>" + escape(p) + "</b>.").orElse("Not logged in.");
    ctx.html(
        "<!doctype html><html><head><title>Arbiter master "
            + escape(masterName)
            + "</title></head><body><h1>Served by master "
            + escape(masterName)
            + "</h1><p>"
            + status
            + "</p><form method=post action=/login>User <input name=user> Password <input"
            + " name=password type=password> <button>Log in</button></form>"
            + "<form method=post action=/logout><button>Log out</button></form>"
            + "<p>The demo password is <code>"
            + DEMO_PASSWORD
            + "</code>. Log in here, then open another master's page: you are logged in there"
            + " too.</p></body></html>");
  }

  /** A browser posting the page's form asks for HTML; API clients do not. */
  private static boolean wantsPage(Context ctx) {
    String accept = ctx.header("Accept");
    return accept != null && accept.contains("text/html");
  }

  private Map<String, Object> body(String key, Object value) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("master", masterName);
    out.put(key, value);
    return out;
  }

  private static boolean constantTimeEquals(String given, String expected) {
    return MessageDigest.isEqual(
        given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }
}
