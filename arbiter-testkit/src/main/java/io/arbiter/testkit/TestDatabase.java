package io.arbiter.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A database of its own for one test class, dropped on {@link #close()}.
 *
 * @param label what it is, for test names and messages ("embedded PostgreSQL", "MariaDB server")
 */
public record TestDatabase(String label, String jdbcUrl, String adminUrl, String name)
    implements AutoCloseable {

  public boolean isPostgres() {
    return jdbcUrl.startsWith("jdbc:postgresql:");
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl);
  }

  @Override
  public void close() {
    try (Connection c = DriverManager.getConnection(adminUrl);
        Statement st = c.createStatement()) {
      if (isPostgres()) {
        st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } else {
        st.execute("DROP DATABASE IF EXISTS " + name);
      }
    } catch (SQLException e) {
      System.err.println("could not drop test database " + name + ": " + e.getMessage());
    }
  }
}
