package io.arbiter.jdbc;

import io.arbiter.ArbiterException;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.StoreMisconfiguredException.Problem;
import io.arbiter.StoreReadOnlyException;
import io.arbiter.StoreUnavailableException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;

/**
 * Turns a driver's SQLException into what the engine can act on: transient (retry, and keep the
 * lease clock running) or not (an operator must fix something). Messages name the database and,
 * where known, the fix.
 */
final class SqlFailures {
  private SqlFailures() {}

  static ArbiterException translate(String what, String database, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String detail = what + " on " + database + ": " + rootMessage(e);
    if (state.startsWith("28") || e.getErrorCode() == 1045) {
      return new StoreMisconfiguredException(
          database,
          Problem.CREDENTIALS,
          "the database refused the credentials ("
              + detail
              + "): check the user and password in the"
              + " JDBC URL or --db-user/--db-password",
          e);
    }
    if (isReadOnly(e, state)) {
      // Transient: during a failover the old primary, demoted, or a standby answers for a while.
      return new StoreReadOnlyException(
          database,
          "the database is read-only ("
              + detail
              + "): point Arbiter at the primary, writable server",
          e);
    }
    if (state.startsWith("3D") || e.getErrorCode() == 1049) {
      return new StoreMisconfiguredException(
          database, Problem.MISSING_DATABASE, "the database does not exist (" + detail + ")", e);
    }
    if (isTransient(e, state)) {
      return new StoreUnavailableException(detail, e);
    }
    // Anything else the database refuses (privileges, an unexpected schema): retrying will not
    // help.
    return new StoreMisconfiguredException(
        database, Problem.OTHER, detail + " (SQLSTATE " + state + ")", e);
  }

  /**
   * True if the database refused a write because it is read-only: PostgreSQL's
   * read_only_sql_transaction (a hot standby, default_transaction_read_only), MariaDB/MySQL's
   * ER_OPTION_PREVENTS_STATEMENT (read_only) and ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION.
   */
  static boolean isReadOnly(SQLException e, String state) {
    return state.equals("25006") || e.getErrorCode() == 1290 || e.getErrorCode() == 1792;
  }

  /**
   * True if {@code e} is a lock wait that ran out (PostgreSQL's lock_timeout, MariaDB's
   * innodb_lock_wait_timeout): the statement did nothing, and the transaction can be tried again.
   */
  static boolean isLockTimeout(SQLException e) {
    return "55P03".equals(e.getSQLState()) || e.getErrorCode() == 1205;
  }

  private static boolean isTransient(SQLException e, String state) {
    return state.isEmpty() // no SQL error at all: the driver lost or closed the connection
        || e instanceof SQLTransientException
        || e instanceof SQLRecoverableException
        || e instanceof SQLTimeoutException
        || state.startsWith("08") // connection exception
        || state.startsWith("40") // serialization failure, deadlock: retry
        || state.startsWith("57") // operator intervention: shutdown, cannot connect now
        || state.startsWith("55") // object not in prerequisite state, lock_timeout among them
        || state.startsWith("53") // insufficient resources
        || state.equals("HY000") && e.getErrorCode() == 1213 // MariaDB deadlock
        || isLockTimeout(e)
        || e.getErrorCode() == 2013
        || e.getErrorCode() == 2006; // lost connection / server gone away
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    String msg = String.valueOf(e.getMessage());
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
      if (t.getMessage() != null) {
        msg = msg + " (" + t.getClass().getSimpleName() + ": " + t.getMessage() + ")";
        break;
      }
    }
    return msg;
  }
}
