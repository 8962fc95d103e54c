package io.arbiter.cli;

import io.arbiter.jdbc.JdbcSessionStore;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.SessionConfig;
import io.arbiter.web.DemoWebApp;
import io.arbiter.web.WebServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web side of a demo master: the demo web app (log in on one master, stay logged in on every
 * other) with sessions in the shared database.
 */
final class DemoWeb implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DemoWeb.class);

  private final ClusterSessions sessions;
  private final WebServer server;

  private DemoWeb(ClusterSessions sessions, WebServer server) {
    this.sessions = sessions;
    this.server = server;
  }

  static DemoWeb start(String url, DbOptions db, String master, int port) {
    ClusterSessions sessions =
        ClusterSessions.create(
            JdbcSessionStore.open(url, db.user(), db.password(), 4, db.createSchema),
            SessionConfig.defaults());
    sessions.startPurging();
    WebServer server = DemoWebApp.start(port, sessions, master, app -> {});
    log.info(
        "{}: web app on {} (log in with any name and the password 'arbiter')",
        master,
        server.baseUrl());
    return new DemoWeb(sessions, server);
  }

  @Override
  public void close() {
    server.close();
    sessions.close();
  }
}
