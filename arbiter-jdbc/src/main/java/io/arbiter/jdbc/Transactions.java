package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * How every JDBC store of Arbiter runs its statements: a short transaction (or one auto-commit
 * statement) on a pooled connection, with any {@link SQLException} turned into an {@link
 * io.arbiter.ArbiterException} that says what was being done, on which database, and whether it is
 * worth retrying ({@link SqlFailures}).
 */
final class Transactions {
  /** Work on a connection. */
  @FunctionalInterface
  interface Work<T> {
    T apply(Connection c) throws SQLException;
  }

  private final DataSource dataSource;
  private final String database;

  /**
   * @param database the URL without its query string, for messages
   */
  Transactions(DataSource dataSource, String database) {
    this.dataSource = dataSource;
    this.database = database;
  }

  /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
  <T> T inTransaction(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.apply(c);
        c.commit();
        return result;
      } catch (Throwable e) {
        // Any failure, an Error too, rolls back: setAutoCommit(true) below would commit.
        rollbackQuietly(c);
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw SqlFailures.translate(what, database, e);
    }
  }

  /** Runs {@code work} on an auto-commit connection: for one statement, one round trip. */
  <T> T inAutoCommit(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.apply(c);
    } catch (SQLException e) {
      throw SqlFailures.translate(what, database, e);
    }
  }

  /**
   * Runs one statement on a pooled connection: auto-commit, so one round trip, without the
   * BEGIN/COMMIT a transaction costs (a caller's pool that hands out connections without
   * auto-commit gets a commit after it).
   */
  <T> T oneStatement(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      T result = work.apply(c);
      if (!c.getAutoCommit()) {
        c.commit();
      }
      return result;
    } catch (SQLException e) {
      throw SqlFailures.translate(what, database, e);
    }
  }

  static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; the pool discards it
    }
  }
}
