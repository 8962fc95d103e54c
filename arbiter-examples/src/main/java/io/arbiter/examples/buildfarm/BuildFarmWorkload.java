package io.arbiter.examples.buildfarm;

import io.arbiter.jdbc.Dialect;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The demo's workload: the clustered services of a small build farm (change-source pollers and
 * schedulers), each of which records a fenced "tick" in {@value #TABLE} while it runs. The ticks
 * are the evidence that `arbiter bench`, chaos and the tests read back ({@link TickHistory}): who
 * ran what, under which token.
 */
public final class BuildFarmWorkload {
  /** The table the services write their fenced ticks to. */
  public static final String TABLE = "arbiter_demo_tick";

  private static final String[] NAMES = {
    "poller-arbiter",
    "poller-buildbot",
    "poller-gerrit",
    "poller-jgit",
    "poller-linux",
    "poller-postgres",
    "scheduler-nightly",
    "scheduler-hourly",
    "scheduler-release",
    "scheduler-docs",
    "scheduler-periodic",
    "scheduler-try"
  };

  private BuildFarmWorkload() {}

  /** {@code count} service names, the first twelve from the build farm, then numbered pollers. */
  public static List<String> serviceNames(String prefix, int count) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add(prefix + (i < NAMES.length ? NAMES[i] : "poller-" + i));
    }
    return names;
  }

  /** Creates the tick table if it is missing. */
  public static void createTable(DataSource ds, Dialect dialect) throws SQLException {
    Dialect.TableDdl ddl = dialect.tableDdl();
    String create =
        "CREATE TABLE IF NOT EXISTS "
            + TABLE
            + " ("
            + String.format(ddl.autoIncrementKey(), "id")
            + ", service VARCHAR(64) NOT NULL, token BIGINT NOT NULL, member VARCHAR(64) NOT NULL,"
            + " incarnation BIGINT NOT NULL, written_at "
            + ddl.timestampType()
            + " NOT NULL)"
            + ddl.tableOptions();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(create);
      st.execute(
          "CREATE INDEX IF NOT EXISTS " + TABLE + "_service ON " + TABLE + " (service, token)");
    }
  }
}
