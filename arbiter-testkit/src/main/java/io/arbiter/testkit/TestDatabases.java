package io.arbiter.testkit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Where tests get real databases. By default an embedded PostgreSQL (one per test JVM, no server to
 * install); the machine's PostgreSQL and MariaDB servers when their JDBC URLs are given in {@value
 * #POSTGRES_ENV} and {@value #MARIADB_ENV}. Each test class gets a fresh database on that server.
 */
public final class TestDatabases {
  public static final String POSTGRES_ENV = "ARBITER_TEST_POSTGRES_URL";
  public static final String MARIADB_ENV = "ARBITER_TEST_MARIADB_URL";

  private static final Pattern URL = Pattern.compile("^(jdbc:[a-z]+://[^/]+/)([^?]*)(\\?.*)?$");
  private static EmbeddedPostgresServer embedded;

  private TestDatabases() {}

  /** A fresh database on the embedded PostgreSQL, started on first use. */
  public static TestDatabase embeddedPostgres() {
    return fresh("embedded PostgreSQL", embeddedPostgresUrl());
  }

  /**
   * A fresh database on the PostgreSQL server in {@value #POSTGRES_ENV}; skips the test if unset.
   */
  public static TestDatabase postgresServer() {
    return fresh("PostgreSQL server", requireEnv(POSTGRES_ENV, "PostgreSQL"));
  }

  /** A fresh database on the MariaDB server in {@value #MARIADB_ENV}; skips the test if unset. */
  public static TestDatabase mariaDbServer() {
    return fresh("MariaDB server", requireEnv(MARIADB_ENV, "MariaDB"));
  }

  /** The JDBC URL of the embedded PostgreSQL's default database. */
  public static synchronized String embeddedPostgresUrl() {
    if (embedded == null) {
      try {
        embedded = EmbeddedPostgresServer.start(null);
      } catch (IOException e) {
        throw new IllegalStateException("could not start the embedded PostgreSQL: " + e, e);
      }
      EmbeddedPostgresServer started = embedded;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      started.close();
                    } catch (IOException ignored) {
                      // the JVM is exiting
                    }
                  }));
    }
    return embedded.jdbcUrl();
  }

  public static Optional<String> env(String variable) {
    String value = System.getenv(variable);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }

  private static String requireEnv(String variable, String what) {
    Optional<String> url = env(variable);
    Assumptions.assumeTrue(
        url.isPresent(),
        "skipped: set "
            + variable
            + " to a JDBC URL to run this test against a "
            + what
            + " server"
            + " (.ci/run does)");
    return url.get();
  }

  /** Creates a database named arbiter_t_... next to {@code baseUrl}'s and returns it. */
  public static TestDatabase fresh(String label, String baseUrl) {
    Matcher m = URL.matcher(baseUrl);
    if (!m.matches()) {
      throw new IllegalArgumentException("cannot parse JDBC URL " + baseUrl);
    }
    String name = "arbiter_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String query = m.group(3) == null ? "" : m.group(3);
    try (Connection c = DriverManager.getConnection(baseUrl);
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create a test database on " + label + ": " + e, e);
    }
    return new TestDatabase(label, m.group(1) + name + query, baseUrl, name);
  }
}
