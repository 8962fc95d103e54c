package io.arbiter.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a database the way Arbiter 0.1 and 0.2 did, for upgrade tests: their scripts (kept in the
 * test resources under {@code legacy-0.2/<dialect>/}) applied by their runner, which split
 * statements at a semicolon that ends a line and recorded the version in arbiter_schema_version
 * only. No Flyway history.
 */
final class LegacySchema {
  private LegacySchema() {}

  /** Applies the 0.2 scripts of {@code dialect} up to {@code version} (1 or 2) on {@code c}. */
  static void create(Connection c, Dialect dialect, int version) throws SQLException {
    for (int v = 1; v <= version; v++) {
      String path = "io/arbiter/jdbc/legacy-0.2/" + dialect.name() + "/V" + v + "__arbiter.sql";
      try (Statement st = c.createStatement()) {
        for (String sql : statements(read(path))) {
          st.execute(sql);
        }
      }
    }
  }

  private static String read(String path) {
    try (InputStream in = LegacySchema.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(path + " is missing from the test classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The 0.2 runner's splitter: semicolons at line ends, comment lines dropped. */
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
