package io.arbiter.examples.web;

import io.javalin.Javalin;

/** A started web app: where it listens, and how to stop it. */
public final class WebServer implements AutoCloseable {
  private final Javalin app;
  private final String host;

  WebServer(Javalin app, String host) {
    this.app = app;
    this.host = host;
  }

  /** The port actually bound (the ephemeral one when started with port 0). */
  public int port() {
    return app.port();
  }

  /** {@code http://host:port}, without a trailing slash. */
  public String baseUrl() {
    return "http://" + host + ":" + port();
  }

  public Javalin javalin() {
    return app;
  }

  /** Stops the server (Jetty and its threads); safe to call twice. */
  @Override
  public void close() {
    app.stop();
  }
}
