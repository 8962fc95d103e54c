package io.arbiter.examples.web;

import io.arbiter.events.ClusterCache;
import io.arbiter.events.EventLog;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.SessionConfig;
import io.arbiter.web.ArbiterSessionHandler;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web side of a demo master: the demo web app (log in on one master, stay logged in on every
 * other) with sessions in the shared database, and a build-status page served from a {@link
 * ClusterCache}: a status changed on one master is evicted on every master through the event log,
 * in the same transaction as the change.
 *
 * <pre>
 * GET  /builds/{id}             {"master":..,"build":..,"status":..,"from":"cache"|"database"}
 * POST /builds/{id} status=...  (logged in) writes the status and evicts it everywhere
 * </pre>
 */
public final class DemoWeb implements AutoCloseable {
  static final String BUILD_TABLE = "arbiter_demo_build";

  private static final Logger log = LoggerFactory.getLogger(DemoWeb.class);

  /** Connections of the web sessions' own pool. */
  static final int SESSION_POOL_SIZE = 4;

  private final JdbcArbiter sessionsArbiter;
  private final ClusterSessions sessions;
  private final WebServer server;

  private DemoWeb(JdbcArbiter sessionsArbiter, ClusterSessions sessions, WebServer server) {
    this.sessionsArbiter = sessionsArbiter;
    this.sessions = sessions;
    this.server = server;
  }

  /** Starts the web app of one master; port 0 picks a free port. */
  public static DemoWeb start(
      String url,
      DbOptions db,
      String master,
      int port,
      Optional<EventLog> events,
      DataSource data,
      Dialect dialect) {
    // A pool of its own, so that web traffic never waits behind the master's: the default lease
    // TTL sets its timeouts (a request waits at most about a second for a connection), and it runs
    // no member, so it has no heartbeat pool.
    JdbcArbiter sessionsArbiter =
        JdbcArbiter.builder(url)
            .credentials(db.user(), db.password())
            .poolSize(SESSION_POOL_SIZE)
            .heartbeatPoolSize(0)
            .createSchema(db.createSchema())
            .build();
    ClusterSessions sessions =
        ClusterSessions.create(sessionsArbiter.sessionStore(), SessionConfig.defaults());
    sessions.startPurging();
    Optional<ClusterCache<String, String>> cache =
        events.map(log -> ClusterCache.<String, String>builder(log, "build-status").build());
    WebServer server =
        DemoWebApp.start(
            port,
            sessions,
            master,
            app -> cache.ifPresent(c -> buildRoutes(app, c, master, data, dialect)));
    log.info(
        "{}: web app on {} (log in with any name and the password 'arbiter'; build status cached at"
            + " /builds/ID)",
        master,
        server.baseUrl());
    return new DemoWeb(sessionsArbiter, sessions, server);
  }

  private static void buildRoutes(
      Javalin app,
      ClusterCache<String, String> cache,
      String master,
      DataSource data,
      Dialect dialect) {
    ensureTable(data, dialect);
    app.get(
        "/builds/{id}",
        ctx -> {
          String id = ctx.pathParam("id");
          boolean[] loaded = {false};
          String status =
              cache.get(
                  id,
                  key -> {
                    loaded[0] = true;
                    return readStatus(data, key);
                  });
          ctx.json(build(master, id, status, loaded[0] ? "database" : "cache"));
        });
    app.post(
        "/builds/{id}",
        ctx -> {
          Optional<String> user = ArbiterSessionHandler.currentPrincipal(ctx);
          if (user.isEmpty()) {
            ctx.status(401).json(Map.of("master", master, "error", "log in first"));
            return;
          }
          String id = ctx.pathParam("id");
          String status = status(ctx);
          try (Connection c = data.getConnection()) {
            c.setAutoCommit(false);
            writeStatus(c, dialect, id, status + " (set by " + user.get() + " on " + master + ")");
            cache.invalidate(c, id); // commits with the change, or not at all
            c.commit();
          }
          ctx.json(build(master, id, readStatus(data, id), "database"));
        });
  }

  private static String status(Context ctx) {
    String s = ctx.formParam("status");
    if (s == null || s.isBlank() || s.length() > 100) {
      throw new io.javalin.http.BadRequestResponse("status: 1 to 100 characters");
    }
    return s.strip();
  }

  private static Map<String, Object> build(String master, String id, String status, String from) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("master", master);
    out.put("build", id);
    out.put("status", status == null ? "unknown" : status);
    out.put("from", from);
    return out;
  }

  private static void ensureTable(DataSource data, Dialect dialect) {
    try (Connection c = data.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS "
              + BUILD_TABLE
              + " (id VARCHAR(64) NOT NULL PRIMARY KEY, status VARCHAR(255) NOT NULL)");
    } catch (SQLException e) {
      log.warn("could not create {}: {}", BUILD_TABLE, e.toString());
    }
  }

  private static String readStatus(DataSource data, String id) {
    try (Connection c = data.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT status FROM " + BUILD_TABLE + " WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new io.arbiter.StoreUnavailableException(
          "reading build " + id + ": " + e.getMessage(), e);
    }
  }

  private static void writeStatus(Connection c, Dialect dialect, String id, String status)
      throws SQLException {
    String sql =
        "INSERT INTO "
            + BUILD_TABLE
            + " (id, status) VALUES (?, ?)"
            + dialect.onConflictUpdate("id", "status");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id);
      ps.setString(2, status);
      ps.executeUpdate();
    }
  }

  @Override
  public void close() {
    server.close();
    sessions.close();
    sessionsArbiter.close();
  }
}
