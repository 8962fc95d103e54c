package io.arbiter.jdbc;

import io.arbiter.spi.ClusterStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the claim loop when another master changes the cluster. A hint only (principle 3): losing
 * one costs latency, never correctness, because the claim loop also polls. PostgreSQL pushes
 * (LISTEN/NOTIFY on a connection held for the purpose); MariaDB/MySQL poll a one-row counter.
 */
abstract class ChangeWatcher implements AutoCloseable, Runnable {
  private static final Logger log = LoggerFactory.getLogger(ChangeWatcher.class);
  private static final long RECONNECT_MILLIS = 500;

  protected final DataSource dataSource;
  protected final Runnable onChange;
  private volatile boolean running = true;
  private Thread thread;

  ChangeWatcher(DataSource dataSource, Runnable onChange) {
    this.dataSource = dataSource;
    this.onChange = onChange;
  }

  static ChangeWatcher listening(DataSource dataSource, Runnable onChange) {
    return new Listening(dataSource, onChange);
  }

  /**
   * Polls the change epoch every {@code interval}; with {@code onEventHead} (may be null) the same
   * statement reads the event log's head, so that a master's event log needs no poll of its own.
   */
  static ChangeWatcher polling(
      DataSource dataSource,
      Runnable onChange,
      ClusterStore.EventHeadListener onEventHead,
      Duration interval) {
    return new Polling(dataSource, onChange, onEventHead, interval);
  }

  void start() {
    thread = new Thread(this, "arbiter-changes");
    thread.setDaemon(true);
    thread.start();
  }

  boolean running() {
    return running;
  }

  @Override
  public void run() {
    while (running) {
      try (Connection c = dataSource.getConnection()) {
        watchInAutoCommit(c);
      } catch (SQLException | RuntimeException e) {
        if (running) {
          log.debug("change watcher lost its connection: {}; reconnecting", e.toString());
        }
      }
      if (running) {
        // We may have missed a change while disconnected: look once more, then reconnect.
        onChange.run();
        sleep(RECONNECT_MILLIS);
      }
    }
  }

  /**
   * Watches with each statement a transaction of its own. A caller's pool may hand out connections
   * with auto-commit off: then the first poll would open a transaction that never ends, and on
   * MariaDB (REPEATABLE READ) every later poll would read that one snapshot and never see a change
   * or a new event; on PostgreSQL a LISTEN takes effect only at a commit that never comes. The
   * connection is held for the watcher's whole life, so auto-commit is turned on for it, and back
   * off when it is returned.
   */
  private void watchInAutoCommit(Connection c) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    if (!autoCommit) {
      c.rollback(); // nothing of ours is in it; setAutoCommit(true) would commit it
      c.setAutoCommit(true);
    }
    try {
      watch(c);
    } finally {
      if (!autoCommit) {
        try {
          c.setAutoCommit(false);
        } catch (SQLException | RuntimeException e) {
          log.debug("change watcher: could not turn auto-commit back off: {}", e.toString());
        }
      }
    }
  }

  /** Watches on {@code c} (in auto-commit) until it fails or the watcher is closed. */
  abstract void watch(Connection c) throws SQLException;

  @Override
  public void close() {
    running = false;
    if (thread != null) {
      try {
        thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final class Listening extends ChangeWatcher {
    Listening(DataSource dataSource, Runnable onChange) {
      super(dataSource, onChange);
    }

    @Override
    void watch(Connection c) throws SQLException {
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN " + PostgresDialect.CHANNEL);
      }
      PGConnection pg = c.unwrap(PGConnection.class);
      while (running()) {
        PGNotification[] notifications = pg.getNotifications(250);
        if (notifications != null && notifications.length > 0) {
          onChange.run();
        }
      }
      try (Statement st = c.createStatement()) {
        st.execute("UNLISTEN *");
      }
    }
  }

  private static final class Polling extends ChangeWatcher {
    private static final String EPOCH = "SELECT epoch FROM arbiter_change WHERE id = 1";
    private static final String EPOCH_AND_EVENT_HEAD =
        "SELECT c.epoch, h.last_seq FROM arbiter_change c CROSS JOIN arbiter_event_head h"
            + " WHERE c.id = 1 AND h.id = 1";

    private final ClusterStore.EventHeadListener onEventHead;
    private final long intervalMillis;
    private long lastEpoch = Long.MIN_VALUE;

    Polling(
        DataSource dataSource,
        Runnable onChange,
        ClusterStore.EventHeadListener onEventHead,
        Duration interval) {
      super(dataSource, onChange);
      this.onEventHead = onEventHead;
      this.intervalMillis = Math.max(1, interval.toMillis());
    }

    @Override
    void watch(Connection c) throws SQLException {
      try (PreparedStatement ps =
          c.prepareStatement(onEventHead == null ? EPOCH : EPOCH_AND_EVENT_HEAD)) {
        while (running()) {
          long sent = System.nanoTime();
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              long epoch = rs.getLong(1);
              if (lastEpoch != Long.MIN_VALUE && epoch != lastEpoch) {
                onChange.run();
              }
              lastEpoch = epoch;
              if (onEventHead != null) {
                onEventHead.onEventHead(rs.getLong(2), sent);
              }
            }
          }
          sleep(intervalMillis);
        }
      }
    }
  }
}
