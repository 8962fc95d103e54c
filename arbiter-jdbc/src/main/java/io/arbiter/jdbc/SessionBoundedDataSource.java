package io.arbiter.jdbc;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The application's own data source, as Arbiter's stores use it ({@link
 * JdbcArbiter#builder(DataSource)}): each connection gets the session bounds of Arbiter's own pools
 * (a lock wait ends after 1 s, an idle transaction after {@link JdbcArbiter#storeIdleLimit}) while
 * Arbiter holds it, and the database's defaults back when it returns to the application's pool.
 * Without them a claim could wait behind a frozen master's lock for as long as the application's
 * settings allow, holding the epoch row that every other master needs.
 */
final class SessionBoundedDataSource implements DataSource {
  private final DataSource delegate;
  private final String bound;
  private final String reset;

  SessionBoundedDataSource(DataSource delegate, Dialect dialect, Duration idleTransactionLimit) {
    this.delegate = delegate;
    this.bound = dialect.sessionInitSql(idleTransactionLimit);
    this.reset = dialect.sessionResetSql();
  }

  /** The application's data source, without the bounds. */
  DataSource delegate() {
    return delegate;
  }

  @Override
  public Connection getConnection() throws SQLException {
    return bounded(delegate.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return bounded(delegate.getConnection(username, password));
  }

  private Connection bounded(Connection c) throws SQLException {
    try {
      runSettled(c, bound);
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                try {
                  if (reset != null && !c.isClosed()) {
                    runSettled(c, reset);
                  }
                } catch (SQLException e) {
                  // a broken connection: the pool discards it, settings and all
                } finally {
                  c.close();
                }
                return null;
              }
              try {
                return method.invoke(c, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /**
   * Runs a session setting so that it lasts: outside any transaction Arbiter's work left open, and
   * committed where the pool hands out connections without auto-commit (PostgreSQL undoes a SET
   * that is rolled back).
   */
  private static void runSettled(Connection c, String sql) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    if (!autoCommit) {
      c.rollback();
    }
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
    if (!autoCommit) {
      c.commit();
    }
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return delegate.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    delegate.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    delegate.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return delegate.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return delegate.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return iface.isInstance(delegate) ? iface.cast(delegate) : delegate.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(delegate) || delegate.isWrapperFor(iface);
  }
}
