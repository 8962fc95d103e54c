package io.arbiter.jdbc;

import io.arbiter.FencingToken;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.ServiceContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Fences a service's own writes with its token, in the same database as the Arbiter tables.
 *
 * <p>Inside the writer's transaction, {@link #check} share-locks the service's row and verifies
 * that the token is still the current grant and that its holder's lease has not run out by the
 * database's clock. A claim by another master must update that row, so it waits until the writer's
 * transaction ends: every write fenced with token {@code t} commits before grant {@code t+1}
 * exists. A master that comes back from a freeze finds a newer token and its write is rolled back.
 *
 * <pre>{@code
 * fence.write(context, c -> {
 *   try (var ps = c.prepareStatement("INSERT INTO builds ...")) { ...; return ps.executeUpdate(); }
 * });
 * }</pre>
 *
 * The same check as plain SQL, for code that manages its own transactions, is in the README.
 *
 * <p>Get one from {@link JdbcArbiter#fence()} (on Arbiter's pool) or {@link
 * JdbcArbiter#fence(DataSource)} (on the application's own pool, to join its transactions).
 */
public final class JdbcFence {
  /**
   * Planted by a chaos run (system property {@code arbiter.plantedBugs} containing {@code
   * skip-fence}, read once when this class loads) to prove that its checker catches stale writes.
   * Never set otherwise: the fence then accepts any token.
   */
  private static final boolean SKIP_FENCE =
      java.util.Arrays.asList(System.getProperty("arbiter.plantedBugs", "").split(","))
          .contains("skip-fence");

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(JdbcFence.class);

  /** Told once per process that fenced transactions cannot be bounded here (MySQL). */
  private static final AtomicBoolean warnedUnbounded = new AtomicBoolean();

  private final DataSource dataSource;
  private final Dialect dialect;
  private final Supplier<Duration> leaseTtl;
  private final Duration restoreTo;
  private final String lockGrant;
  private final String checkLease;

  /**
   * The fence {@link JdbcArbiter} hands out. A fenced transaction that sits idle for the lease TTL
   * of the cluster's members ({@code leaseTtl}, read at each write: the TTL a member joined with)
   * is ended by the database, which frees its share lock: a master frozen in the middle of a fenced
   * write must not keep its service from its successor for longer than about one lease.
   *
   * @param restoreTo the connection's own idle bound, set again after the write (Arbiter's pool);
   *     null: the database's default (the application's pool)
   */
  static JdbcFence bounded(
      DataSource dataSource, Dialect dialect, Supplier<Duration> leaseTtl, Duration restoreTo) {
    return new JdbcFence(dataSource, dialect, leaseTtl, restoreTo);
  }

  private JdbcFence(
      DataSource dataSource, Dialect dialect, Supplier<Duration> leaseTtl, Duration restoreTo) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.leaseTtl = leaseTtl;
    this.restoreTo = restoreTo;
    this.lockGrant =
        "SELECT token, owner_name, owner_incarnation FROM arbiter_service WHERE name = ?"
            + dialect.shareLockClause();
    this.checkLease =
        "SELECT 1 FROM arbiter_member WHERE name = ? AND incarnation = ? AND state = 'ACTIVE'"
            + " AND lease_expires > "
            + dialect.now();
  }

  /** The work to run under the fence, inside one transaction. */
  @FunctionalInterface
  public interface FencedWork<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * Runs {@code work} in a transaction that commits only if {@code context}'s token is current. On
   * rejection the transaction is rolled back, {@code context} is told (Arbiter stops the service
   * and logs both tokens), and the rejection is thrown.
   */
  public <T> T write(ServiceContext context, FencedWork<T> work) throws SQLException {
    Dialect.IdleTransactionLimit idleLimit =
        dialect.idleTransactionLimit(leaseTtl.get(), restoreTo);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        limitIdleTime(c, idleLimit);
        check(c, context.token());
        T result = work.run(c);
        c.commit();
        return result;
      } catch (FencingTokenRejectedException e) {
        c.rollback();
        context.fencingRejected(e);
        throw e;
      } catch (Throwable e) {
        c.rollback(); // an Error too: setAutoCommit(true) below would commit
        throw e;
      } finally {
        c.setAutoCommit(true);
        restoreIdleTime(c, idleLimit);
      }
    }
  }

  private static void limitIdleTime(Connection c, Dialect.IdleTransactionLimit idleLimit)
      throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(idleLimit.begin());
    } catch (SQLException e) {
      // MySQL has no idle_transaction_timeout: the fence still holds, only the bound is lost.
      c.rollback(); // PostgreSQL: the failed statement aborted the transaction
      if (warnedUnbounded.compareAndSet(false, true)) {
        log.warn(
            "fenced writes on {} cannot be bounded in time ({}): a master frozen in the middle of"
                + " one keeps its service's row locked, and the service from its successor, until"
                + " the database drops the connection (MySQL: wait_timeout). MySQL has no"
                + " idle_transaction_timeout; MariaDB 10.3+ and PostgreSQL do",
            ArbiterDataSources.describe(c),
            e.getMessage());
      }
    }
  }

  private static void restoreIdleTime(Connection c, Dialect.IdleTransactionLimit idleLimit) {
    if (idleLimit.end() == null) {
      return;
    }
    try (Statement st = c.createStatement()) {
      st.execute(idleLimit.end());
    } catch (SQLException e) {
      log.debug("cannot restore idle_transaction_timeout: {}", e.getMessage()); // connection gone
    }
  }

  /**
   * Verifies {@code token} inside the caller's open transaction (autocommit off) and holds a share
   * lock on the grant until that transaction ends. Bound how long that transaction may sit idle
   * (see the README's plain-SQL fence): a master frozen inside it keeps the service from its
   * successor until the database ends it.
   *
   * @throws FencingTokenRejectedException if the token is stale or its holder's lease has expired
   * @throws IllegalStateException if {@code c} is in auto-commit mode, where nothing after the
   *     check would be fenced
   */
  public void check(Connection c, FencingToken token) throws SQLException {
    if (c.getAutoCommit()) {
      throw new IllegalStateException(
          "JdbcFence.check needs a connection inside a transaction, and this one is in auto-commit"
              + " mode: the share lock on "
              + token.service()
              + "'s grant would end with the check, and the writes after it would not be fenced."
              + " Call connection.setAutoCommit(false) first, or use JdbcFence.write");
    }
    if (SKIP_FENCE) {
      return; // deliberately broken, to prove the chaos checker catches stale writes
    }
    long current;
    String owner;
    try (PreparedStatement ps = c.prepareStatement(lockGrant)) {
      ps.setString(1, token.service());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new FencingTokenRejectedException(token, 0, null);
        }
        current = rs.getLong(1);
        String ownerName = rs.getString(2);
        owner = ownerName == null ? null : ownerName + "#" + rs.getLong(3);
      }
    }
    if (current != token.value() || !token.holder().toString().equals(owner)) {
      throw new FencingTokenRejectedException(token, current, owner);
    }
    try (PreparedStatement ps = c.prepareStatement(checkLease)) {
      ps.setString(1, token.holder().name());
      ps.setLong(2, token.holder().incarnation());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new FencingTokenRejectedException(token, current, owner + " (lease expired)");
        }
      }
    }
  }
}
