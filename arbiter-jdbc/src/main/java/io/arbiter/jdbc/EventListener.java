package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns PostgreSQL notifications on {@value PostgresDialect#EVENT_CHANNEL} into wake-ups of the
 * event log reader. Holds one connection, blocked in a socket read while idle: no statement runs at
 * rest except a liveness check every {@code checkInterval} (a link cut without a reset would
 * otherwise go unnoticed). After any reconnect it wakes the reader once, since a notification may
 * have been lost meanwhile.
 */
final class EventListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventListener.class);
  private static final long RECONNECT_MILLIS = 250;

  private final DataSource dataSource;
  private final Runnable onWake;
  private final long checkMillis;
  private final Object sleeper = new Object();
  private volatile boolean running = true;
  private Thread thread;

  EventListener(DataSource dataSource, Runnable onWake, Duration checkInterval) {
    this.dataSource = dataSource;
    this.onWake = onWake;
    this.checkMillis = Math.max(1, checkInterval.toMillis());
  }

  void start() {
    thread = new Thread(this::run, "arbiter-event-listener");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (running) {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + PostgresDialect.EVENT_CHANNEL);
        }
        onWake.run(); // anything published before LISTEN took effect
        PGConnection pg = c.unwrap(PGConnection.class);
        long lastCheck = System.nanoTime();
        while (running) {
          // Short slices so that close() is prompt; the wait itself sends nothing.
          PGNotification[] n = pg.getNotifications(250);
          if (n != null && n.length > 0) {
            onWake.run();
          }
          if (System.nanoTime() - lastCheck > checkMillis * 1_000_000) {
            try (Statement st = c.createStatement()) {
              st.execute("SELECT 1");
            }
            lastCheck = System.nanoTime();
          }
        }
        try (Statement st = c.createStatement()) {
          st.execute("UNLISTEN *");
        }
      } catch (SQLException | RuntimeException e) {
        if (running) {
          log.debug("event listener lost its connection: {}; reconnecting", e.toString());
        }
      }
      if (running) {
        synchronized (sleeper) {
          try {
            sleeper.wait(RECONNECT_MILLIS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    running = false;
    synchronized (sleeper) {
      sleeper.notifyAll();
    }
    if (thread != null) {
      try {
        thread.join(3000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
