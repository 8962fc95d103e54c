package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Where a master's heartbeat runs. The heartbeat must not queue behind application traffic (event
 * publishing, sessions, fenced writes, a burst of claims) for a connection of the main pool: a
 * healthy master that cannot renew within its lease fences itself. So it has a connection of its
 * own: a pool of its own when Arbiter made the pools ({@link #pooled}), or one connection taken
 * from the caller's data source and kept ({@link #held}).
 */
abstract class HeartbeatConnection implements AutoCloseable {
  /** Runs {@code work} (one auto-commit statement) on the heartbeat's connection. */
  abstract <T> T run(String what, Transactions.Work<T> work);

  @Override
  public abstract void close();

  /**
   * Each heartbeat takes a connection from {@code dataSource}: the heartbeat's own pool (made by
   * {@link JdbcArbiter} or given to {@link JdbcArbiter.Builder#heartbeatDataSource}).
   */
  static HeartbeatConnection pooled(DataSource dataSource, String database) {
    Transactions transactions = new Transactions(dataSource, database);
    return new HeartbeatConnection() {
      @Override
      <T> T run(String what, Transactions.Work<T> work) {
        return transactions.inAutoCommit(what, work);
      }

      @Override
      public void close() {
        // the pool is closed by whoever made it
      }
    };
  }

  /**
   * One connection taken from {@code dataSource} at the first heartbeat and kept (the pool is one
   * smaller for everything else); after a failure it is given back and the next heartbeat takes a
   * new one.
   */
  static HeartbeatConnection held(DataSource dataSource, String database) {
    return new Held(dataSource, database);
  }

  private static final class Held extends HeartbeatConnection {
    private final DataSource dataSource;
    private final String database;
    private Connection connection;

    Held(DataSource dataSource, String database) {
      this.dataSource = dataSource;
      this.database = database;
    }

    @Override
    synchronized <T> T run(String what, Transactions.Work<T> work) {
      try {
        if (connection == null) {
          connection = dataSource.getConnection();
          connection.setAutoCommit(true);
        }
        return work.apply(connection);
      } catch (SQLException e) {
        discard(); // broken or not, a fresh one next time costs one connect
        throw SqlFailures.translate(what, database, e);
      }
    }

    @Override
    public synchronized void close() {
      discard();
    }

    private void discard() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException ignored) {
          // the pool discards a broken connection
        }
        connection = null;
      }
    }
  }
}
