package io.arbiter.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.InvalidConfigException;
import java.sql.Connection;
import java.time.Duration;

/**
 * Connection pools (HikariCP) for Arbiter's own statements. Timeouts are set from the lease TTL so
 * that a database that stops answering turns into an error before the lease could run out, rather
 * than a renewal thread hung on a socket. The isolation is READ COMMITTED on every database: each
 * statement sees what has committed before it, which the claim and fencing SQL rely on.
 */
public final class ArbiterDataSources {
  private ArbiterDataSources() {}

  /** Checks that a JDBC URL names a database Arbiter supports. */
  public static String validateUrl(String url) {
    if (url == null || url.isBlank()) {
      throw new InvalidConfigException("jdbcUrl", url, "must be a JDBC URL");
    }
    if (url.startsWith("jdbc:postgresql:")
        || url.startsWith("jdbc:mariadb:")
        || url.startsWith("jdbc:mysql:")) {
      return url;
    }
    throw new InvalidConfigException(
        "jdbcUrl",
        JdbcArbiter.redact(url), // the query string may hold a password
        "unknown URL scheme: use jdbc:postgresql://host:port/db, jdbc:mariadb://host:port/db or"
            + " jdbc:mysql://host:port/db");
  }

  /**
   * A pool for {@code url}; {@code user}/{@code password} may be null (then taken from the URL).
   */
  public static HikariDataSource create(
      String url, String user, String password, Duration leaseTtl, int poolSize, String poolName) {
    return create(url, user, password, leaseTtl, poolSize, poolName, null);
  }

  /** As above, running {@code initSql} (if not null) on every new connection. */
  public static HikariDataSource create(
      String url,
      String user,
      String password,
      Duration leaseTtl,
      int poolSize,
      String poolName,
      String initSql) {
    validateUrl(url);
    HikariConfig hc = new HikariConfig();
    if (url.startsWith("jdbc:mysql:")) {
      // The MariaDB driver speaks to MySQL too, but only accepts this scheme when asked.
      hc.addDataSourceProperty("permitMysqlScheme", "true");
      hc.setDriverClassName("org.mariadb.jdbc.Driver");
    }
    hc.setJdbcUrl(url);
    if (user != null) {
      hc.setUsername(user);
    }
    if (password != null) {
      hc.setPassword(password);
    }
    hc.setPoolName(poolName);
    hc.setMaximumPoolSize(poolSize);
    hc.setMinimumIdle(
        poolSize); // a fixed-size pool, as HikariCP advises: no connect on the hot path
    hc.setAutoCommit(true);
    hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    // Start even when the database is down: the lease thread retries with a clear message.
    hc.setInitializationFailTimeout(-1);
    long ttlMillis = leaseTtl.toMillis();
    hc.setConnectionTimeout(Math.max(250, ttlMillis / 3));
    hc.setValidationTimeout(Math.max(250, ttlMillis / 3));
    hc.setKeepaliveTime(Duration.ofSeconds(30).toMillis());
    // Above the 1 s lock timeout of the session: a long lock wait ends in the server's clear error
    // (and a retry), not in a client-side socket timeout that breaks the connection.
    long socketMillis = Math.max(2000, ttlMillis);
    if (url.startsWith("jdbc:postgresql:")) {
      int seconds = (int) Math.max(1, (socketMillis + 999) / 1000);
      hc.addDataSourceProperty("connectTimeout", String.valueOf(seconds));
      hc.addDataSourceProperty("socketTimeout", String.valueOf(seconds));
      hc.addDataSourceProperty("tcpKeepAlive", "true");
      hc.addDataSourceProperty("ApplicationName", poolName);
    } else {
      hc.addDataSourceProperty("connectTimeout", String.valueOf(socketMillis));
      hc.addDataSourceProperty("socketTimeout", String.valueOf(socketMillis));
    }
    hc.setConnectionInitSql(initSql);
    return new HikariDataSource(hc);
  }

  /** A short description of the database behind a connection, for messages. */
  static String describe(Connection c) {
    try {
      var md = c.getMetaData();
      return md.getDatabaseProductName() + " at " + md.getURL();
    } catch (Exception e) {
      return "the database";
    }
  }
}
