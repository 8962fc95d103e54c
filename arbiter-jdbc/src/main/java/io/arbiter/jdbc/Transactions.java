package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every JDBC store of Arbiter runs its statements: a short transaction (or one auto-commit
 * statement) on a pooled connection, with any {@link SQLException} turned into an {@link
 * io.arbiter.ArbiterException} that says what was being done, on which database, and whether it is
 * worth retrying ({@link SqlFailures}).
 */
final class Transactions {
  private static final Logger log = LoggerFactory.getLogger(Transactions.class);

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

  /**
   * Runs {@code work} in one transaction: committed if it returns, rolled back if it throws.
   *
   * <p>What the caller hears is the first failure: the work's (or the commit's). A rollback or a
   * reset of auto-commit that fails after it rides along as suppressed instead of replacing it. A
   * reset that fails after a successful commit is not a failure of the transaction (it committed:
   * reporting an error would make a caller retry, or give up, work that is done); the pool gets the
   * connection back with auto-commit off, which HikariCP resets or discards.
   */
  <T> T inTransaction(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      T result;
      try {
        result = work.apply(c);
        c.commit();
      } catch (Throwable e) {
        // Any failure, an Error too, rolls back.
        if (rollback(c, e)) {
          restoreAutoCommit(c, e);
        }
        // After a failed rollback, auto-commit stays off: setAutoCommit(true) inside an open
        // transaction commits it, half-done. The connection is broken anyway; closing it lets the
        // pool roll back or discard it.
        throw e;
      }
      restoreAutoCommit(c, null);
      return result;
    } catch (SQLException e) {
      throw SqlFailures.translate(what, database, e);
    }
  }

  /** Rolls back; a failure is added to {@code first}. True if the rollback succeeded. */
  static boolean rollback(Connection c, Throwable first) {
    try {
      c.rollback();
      return true;
    } catch (SQLException | RuntimeException e) {
      first.addSuppressed(e);
      return false;
    }
  }

  /**
   * Turns auto-commit back on after the transaction ended. A failure is added to {@code first} when
   * there was one; after a commit it is only logged (the work is committed either way).
   */
  static void restoreAutoCommit(Connection c, Throwable first) {
    try {
      c.setAutoCommit(true);
    } catch (SQLException | RuntimeException e) {
      if (first != null) {
        first.addSuppressed(e);
      } else {
        log.debug("could not turn auto-commit back on after a commit: {}", e.toString());
      }
    }
  }

  /**
   * Runs {@code work} on an auto-commit connection: for one statement, one round trip. A caller's
   * pool whose connections come with auto-commit off gets a commit after it, as in {@link
   * #oneStatement}: else the statement's transaction (and on MariaDB its snapshot) would stay open.
   */
  <T> T inAutoCommit(String what, Work<T> work) {
    return oneStatement(what, work);
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
