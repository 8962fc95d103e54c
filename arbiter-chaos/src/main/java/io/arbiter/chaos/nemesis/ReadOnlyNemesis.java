package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Turns the PostgreSQL database read-only as a failover onto a standby looks to its clients: every
 * session ends, and every new one is read-only (writes fail with SQLSTATE 25006). Healing makes it
 * writable again and ends the sessions once more, so that the new ones take the setting.
 *
 * <p>Only PostgreSQL: on MariaDB, {@code read_only} does not stop an account with the SUPER
 * privilege, which is what the run connects with.
 */
public final class ReadOnlyNemesis implements Nemesis {
  private final String jdbcUrl;
  private volatile boolean readOnly;

  public ReadOnlyNemesis(String jdbcUrl) {
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("the read-only fault needs PostgreSQL");
    }
    this.jdbcUrl = jdbcUrl;
  }

  @Override
  public Healing inject(Fault fault, ChaosMaster target) throws Exception {
    readOnly = true; // before: a failure halfway may have left it read-only
    setReadOnly(true);
    return () -> {
      setReadOnly(false);
      readOnly = false;
    };
  }

  @Override
  public void healAll() throws SQLException {
    if (readOnly) {
      setReadOnly(false);
      readOnly = false;
    }
  }

  private void setReadOnly(boolean readOnly) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl);
        Statement st = c.createStatement()) {
      // A session opened while the database is read-only is read-only too: not this one.
      st.execute("SET SESSION default_transaction_read_only = off");
      st.execute(
          "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = "
              + (readOnly ? "on" : "off")
              + "', current_database()); END $$");
      st.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname ="
              + " current_database() AND pid <> pg_backend_pid()");
    }
  }
}
