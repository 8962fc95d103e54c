package io.arbiter.jdbc;

import io.arbiter.ArbiterException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the schema version and, when allowed, applies the versioned scripts shipped in this jar
 * ({@code io/arbiter/jdbc/schema/<dialect>/V<n>__arbiter.sql}). A schema newer than this code is
 * refused: an older Arbiter must not write into tables whose meaning it does not know.
 */
final class SchemaManager {
  /** The schema version this code reads and writes. */
  static final int CURRENT_VERSION = 2;

  private static final Logger log = LoggerFactory.getLogger(SchemaManager.class);

  private final Dialect dialect;

  SchemaManager(Dialect dialect) {
    this.dialect = dialect;
  }

  static String scriptPath(Dialect dialect, int version) {
    return "io/arbiter/jdbc/schema/" + dialect.name() + "/V" + version + "__arbiter.sql";
  }

  private String scriptsToRun(int installed) {
    List<String> scripts = new ArrayList<>();
    for (int v = installed + 1; v <= CURRENT_VERSION; v++) {
      scripts.add(scriptPath(dialect, v));
    }
    return String.join(", ", scripts);
  }

  /** Returns the installed version, 0 if there is no Arbiter schema. */
  int installedVersion(Connection c) throws SQLException {
    // Look the table up rather than let a SELECT fail: a failed statement would abort (and a
    // rollback would end) the transaction that holds the schema lock.
    try (ResultSet tables =
        c.getMetaData()
            .getTables(
                c.getCatalog(), c.getSchema(), "arbiter_schema_version", new String[] {"TABLE"})) {
      if (!tables.next()) {
        return 0;
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT MAX(version) FROM arbiter_schema_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  void ensure(Connection c, boolean createAllowed, String database) throws SQLException {
    int installed = installedVersion(c);
    if (installed > CURRENT_VERSION) {
      throw new ArbiterException(
          "the Arbiter schema in "
              + database
              + " is version "
              + installed
              + ", newer than this Arbiter understands (version "
              + CURRENT_VERSION
              + "): upgrade Arbiter on this master before starting it (see docs/upgrading.md)");
    }
    if (installed == CURRENT_VERSION) {
      return;
    }
    if (!createAllowed) {
      throw new ArbiterException(
          "the Arbiter schema in "
              + database
              + (installed == 0 ? " is missing" : " is version " + installed)
              + ": run "
              + scriptsToRun(installed)
              + " in this order (inside arbiter-jdbc.jar and in the source tree under"
              + " arbiter-jdbc/src/main/resources) or allow schema creation (--create-schema)");
    }
    for (int v = installed + 1; v <= CURRENT_VERSION; v++) {
      apply(c, v, database);
    }
  }

  private void apply(Connection c, int version, String database) throws SQLException {
    String path = scriptPath(dialect, version);
    log.info("applying schema script {} to {}", path, database);
    for (String sql : statements(read(path))) {
      try (Statement st = c.createStatement()) {
        st.execute(sql);
      }
    }
    if (!c.getAutoCommit()) {
      c.commit();
    }
  }

  private static String read(String path) {
    try (InputStream in = SchemaManager.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new ArbiterException("schema script " + path + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ArbiterException("cannot read schema script " + path, e);
    }
  }

  /** Splits a script on semicolons at line ends, dropping comment lines. */
  static List<String> statements(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("--")) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String sql = current.toString().strip();
        out.add(sql.substring(0, sql.length() - 1));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      out.add(current.toString().strip());
    }
    return out;
  }
}
