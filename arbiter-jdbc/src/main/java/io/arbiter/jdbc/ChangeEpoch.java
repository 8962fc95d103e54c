package io.arbiter.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * The change epoch: one counter row ({@code arbiter_change}) that every transaction changing the
 * cluster bumps, and that every master reads back in its heartbeat. Every transaction that changes
 * service rows bumps the epoch <em>first</em> (holding its row lock to the end, so such
 * transactions commit in epoch order), then stamps the rows it changes with it: a master that has
 * read everything up to epoch E reads only rows with {@code changed_epoch > E} next time.
 *
 * <p>Lock order, the same in every transaction, so none can deadlock another: first the service
 * rows a transaction will change ({@code SELECT ... FOR UPDATE}; claims add {@code SKIP LOCKED}),
 * then the epoch row, then member rows. Nothing waits for a row while holding the epoch row, which
 * every claim, release, join, expiry and leave needs: a master frozen inside a fenced write (its
 * service's row share-locked until the database ends its idle transaction) holds up that one
 * service, not the cluster. A transaction that finds nothing to change takes no epoch row at all.
 *
 * <p>Transactions that change only member rows take the epoch row's lock first ({@link #lock}) and
 * bump it only at the end if anything changed.
 */
final class ChangeEpoch {
  /** The epoch as the current transaction sees it, for {@code changed_epoch = ...}. */
  static final String CURRENT = "(SELECT epoch FROM arbiter_change WHERE id = 1)";

  private static final String BUMP = "UPDATE arbiter_change SET epoch = epoch + 1 WHERE id = 1";

  private final Optional<String> notify;

  ChangeEpoch(Dialect dialect) {
    this.notify = dialect.notifyStatement(PostgresDialect.CHANNEL);
  }

  /**
   * Bumps the epoch and, where the database pushes, wakes the other masters. The epoch is what
   * every master reads back in its heartbeat (the truth); the notification only wakes them sooner.
   * Both take effect only if the caller's transaction commits.
   */
  void signal(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.executeUpdate(BUMP);
      if (notify.isPresent()) {
        st.execute(notify.get());
      }
    }
  }

  /** Takes the epoch row's lock without bumping it (see the class comment). */
  static void lock(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT epoch FROM arbiter_change WHERE id = 1 FOR UPDATE");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
    }
  }

  /** The epoch as the caller's transaction sees it; 0 if the row is missing. */
  static long read(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT epoch FROM arbiter_change WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }
}
