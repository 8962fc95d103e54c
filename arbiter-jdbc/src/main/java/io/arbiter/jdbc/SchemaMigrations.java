package io.arbiter.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.util.DriverDataSource;
import io.arbiter.SchemaVersionException;
import io.arbiter.StoreMisconfiguredException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the schema version and, when allowed, migrates the schema with Flyway: the versioned
 * scripts shipped in this jar ({@code io/arbiter/jdbc/schema/<dialect>/V<n>__arbiter.sql}), their
 * history in {@value #HISTORY_TABLE}. A schema newer than this code is refused: an older Arbiter
 * must not write into tables whose meaning it does not know.
 *
 * <p><b>Two records of the version.</b> Arbiter 0.1 and 0.2 recorded the version in {@value
 * #LEGACY_VERSION_TABLE}, with a runner of their own. The migrations still insert their version
 * there (so a master of an older release, during a rolling upgrade, sees a newer schema and stops
 * at its version check), and a database created by those releases, which has that table but no
 * Flyway history, is <em>baselined</em> at the version it records: Flyway writes a baseline row at
 * that version and applies only the migrations after it. The installed version is the larger of the
 * two records.
 *
 * <p><b>Masters starting together</b> take turns under Arbiter's schema lock; see {@link #ensure}.
 */
final class SchemaMigrations {
  /** The schema version this code reads and writes. */
  static final int CURRENT_VERSION = 3;

  /** Flyway's history table, named for Arbiter so that it is never an application's own. */
  static final String HISTORY_TABLE = "arbiter_schema_history";

  /** Where Arbiter 0.1 and 0.2 recorded the version (and the migrations still do). */
  static final String LEGACY_VERSION_TABLE = "arbiter_schema_version";

  private static final Logger log = LoggerFactory.getLogger(SchemaMigrations.class);

  private final Dialect dialect;
  private final String database;

  /**
   * @param database the URL without its query string, for messages
   */
  SchemaMigrations(Dialect dialect, String database) {
    this.dialect = dialect;
    this.database = database;
  }

  /** The folder of this dialect's migrations on the classpath. */
  static String location(Dialect dialect) {
    return "io/arbiter/jdbc/schema/" + dialect.name();
  }

  static String scriptPath(Dialect dialect, int version) {
    return location(dialect) + "/V" + version + "__arbiter.sql";
  }

  /**
   * Checks (and, when {@code createAllowed}, creates or upgrades) the schema behind {@code
   * dataSource}.
   *
   * <p>All of it runs under Arbiter's schema lock ({@link Dialect#lockSchema}, held on one
   * connection of the pool; the releases before Flyway take the same lock), so that masters
   * starting together check, record a baseline and migrate one after the other; Flyway takes its
   * own lock as well. A master that finds no history table records a baseline first (the version of
   * the old record, 0 for a database without Arbiter's tables), so that the table always exists
   * before anyone migrates. Flyway's own connections (two at once on PostgreSQL) are made beside a
   * HikariCP pool ({@link #outsideThePool}), so that a pool of one connection is enough.
   */
  void ensure(DataSource dataSource, boolean createAllowed) {
    // Beside the pool too: the pool's sessions end a transaction that sits idle (a frozen
    // master's),
    // and this one sits idle while Flyway migrates on its own connections.
    new Transactions(outsideThePool(dataSource), database)
        .inTransaction(
            "checking the schema",
            c -> {
              dialect.lockSchema(c);
              try {
                ensureLocked(c, dataSource, createAllowed);
              } finally {
                dialect.unlockSchema(c);
              }
              return null;
            });
  }

  private void ensureLocked(Connection c, DataSource dataSource, boolean createAllowed)
      throws SQLException {
    int legacy = legacyVersion(c);
    int history = historyVersion(c);
    int installed = Math.max(legacy, history);
    refuseNewer(installed);
    if (history == CURRENT_VERSION) {
      return;
    }
    if (!createAllowed) {
      if (installed == CURRENT_VERSION) {
        // Created before Flyway (no history yet): current in content. The first master allowed
        // to create the schema records the baseline.
        return;
      }
      throw new SchemaVersionException(
          database,
          installed,
          CURRENT_VERSION,
          "the Arbiter schema in "
              + database
              + (installed == 0 ? " is missing" : " is version " + installed)
              + ": run "
              + scriptsToRun(installed)
              + " in this order (inside arbiter-jdbc.jar and in the source tree under"
              + " arbiter-jdbc/src/main/resources) or allow schema creation (--create-schema)");
    }
    if (history < 0) {
      // The baseline is the version the old record holds: 0 (below V1) for a database without
      // Arbiter's tables, whether it is new or shared with the application's tables.
      if (legacy > 0) {
        log.info(
            "the Arbiter schema in {} is version {}, recorded in {} before Arbiter moved to"
                + " Flyway: recording it as the baseline in {}",
            database,
            legacy,
            LEGACY_VERSION_TABLE,
            HISTORY_TABLE);
      }
      run(
          dataSource,
          "recording the schema's baseline",
          flyway -> baselineConfig(flyway, legacy).load().baseline());
    }
    log.info("migrating the Arbiter schema in {} to version {}", database, CURRENT_VERSION);
    run(dataSource, "migrating the schema", flyway -> flyway.load().migrate());
  }

  private void refuseNewer(int installed) {
    if (installed > CURRENT_VERSION) {
      throw new SchemaVersionException(
          database,
          installed,
          CURRENT_VERSION,
          "the Arbiter schema in "
              + database
              + " is version "
              + installed
              + ", newer than this Arbiter understands (version "
              + CURRENT_VERSION
              + "): upgrade Arbiter on this master before starting it (see docs/upgrading.md)");
    }
  }

  /** Arbiter's Flyway settings: its history table, this dialect's migrations, nothing else. */
  private FluentConfiguration config(DataSource dataSource) {
    return Flyway.configure(SchemaMigrations.class.getClassLoader())
        .dataSource(outsideThePool(dataSource))
        .table(HISTORY_TABLE)
        .locations("classpath:" + location(dialect))
        .placeholderReplacement(false)
        .validateMigrationNaming(true);
  }

  private static FluentConfiguration baselineConfig(FluentConfiguration config, int baseline) {
    return config
        .baselineVersion(String.valueOf(baseline))
        .baselineDescription(
            baseline > 0 ? "Arbiter schema " + baseline + " from " + LEGACY_VERSION_TABLE : "none");
  }

  /**
   * Flyway opens two connections at once on PostgreSQL (its history's and the migration's), while
   * the schema lock holds one of the pool. A pool sized for a tool (one or two connections) would
   * time out, so where the pool is HikariCP's, Flyway connects the way the pool does, with the same
   * URL, driver, properties and credentials, but beside it; the connections are closed when the
   * command ends. Other data sources are used as they are (give them two connections), without the
   * session bounds Arbiter puts on them ({@link SessionBoundedDataSource}).
   */
  static DataSource outsideThePool(DataSource dataSource) {
    if (dataSource instanceof SessionBoundedDataSource bounded) {
      return bounded.delegate();
    }
    if (dataSource instanceof HikariDataSource pool && pool.getJdbcUrl() != null) {
      return new DriverDataSource(
          pool.getJdbcUrl(),
          pool.getDriverClassName(),
          pool.getDataSourceProperties(),
          pool.getUsername(),
          pool.getPassword());
    }
    return dataSource;
  }

  @FunctionalInterface
  private interface FlywayCommand {
    void run(FluentConfiguration flyway);
  }

  private void run(DataSource dataSource, String what, FlywayCommand command) {
    try {
      command.run(config(dataSource));
    } catch (FlywayException e) {
      Throwable cause = e;
      while (cause.getCause() != null && !(cause instanceof SQLException)) {
        cause = cause.getCause();
      }
      if (cause instanceof SQLException sql) {
        throw SqlFailures.translate(what, database, sql);
      }
      throw new StoreMisconfiguredException(
          database,
          StoreMisconfiguredException.Problem.OTHER,
          what + " on " + database + " failed: " + e.getMessage(),
          e);
    }
  }

  private String scriptsToRun(int installed) {
    List<String> scripts = new ArrayList<>();
    for (int v = installed + 1; v <= CURRENT_VERSION; v++) {
      scripts.add(scriptPath(dialect, v));
    }
    return String.join(", ", scripts);
  }

  /** The version in {@value #LEGACY_VERSION_TABLE}, 0 if there is no such table. */
  static int legacyVersion(Connection c) throws SQLException {
    if (!tableExists(c, LEGACY_VERSION_TABLE)) {
      return 0;
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT MAX(version) FROM " + LEGACY_VERSION_TABLE)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * The highest version Flyway recorded as applied (a baseline counts), 0 if none, -1 if there is
   * no history table.
   */
  static int historyVersion(Connection c) throws SQLException {
    if (!tableExists(c, HISTORY_TABLE)) {
      return -1;
    }
    int max = 0;
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT version FROM "
                    + HISTORY_TABLE
                    + " WHERE success AND version IS NOT NULL")) {
      while (rs.next()) {
        max = Math.max(max, majorVersion(rs.getString(1)));
      }
    }
    return max;
  }

  private static int majorVersion(String version) {
    int dot = version.indexOf('.');
    try {
      return Integer.parseInt(dot < 0 ? version : version.substring(0, dot));
    } catch (NumberFormatException e) {
      return 0; // not a version Arbiter writes
    }
  }

  /**
   * Looks the table up rather than let a SELECT fail: a failed statement would abort (and a
   * rollback would end) the transaction that holds the schema lock.
   */
  private static boolean tableExists(Connection c, String table) throws SQLException {
    try (ResultSet tables =
        c.getMetaData().getTables(c.getCatalog(), c.getSchema(), table, new String[] {"TABLE"})) {
      return tables.next();
    }
  }
}
