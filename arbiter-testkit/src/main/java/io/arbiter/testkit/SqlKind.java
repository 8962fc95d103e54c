package io.arbiter.testkit;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What one SQL statement does to a transaction, as far as {@link FaultProxy} needs to know: enough
 * to tell a COMMIT from the rest, and a transaction that wrote from one that only read. A heuristic
 * on the statement's first keyword, not a parser.
 */
enum SqlKind {
  BEGIN,
  COMMIT,
  ROLLBACK,
  WRITE,
  OTHER;

  private static final Pattern WRITE_IN_CTE =
      Pattern.compile("\\b(INSERT\\s+INTO|DELETE\\s+FROM|UPDATE\\s+\\S+\\s+SET)\\b");

  static SqlKind of(String sql) {
    String s = stripLeadingComments(sql).toUpperCase(Locale.ROOT);
    String first = firstWord(s);
    return switch (first) {
      case "BEGIN", "START" -> BEGIN;
      case "COMMIT", "END" -> COMMIT;
      case "ROLLBACK", "ABORT" ->
          s.matches("(?s)ROLLBACK\\s+(WORK\\s+)?TO\\b.*") ? OTHER : ROLLBACK;
      case "INSERT",
              "UPDATE",
              "DELETE",
              "MERGE",
              "REPLACE",
              "UPSERT",
              "TRUNCATE",
              "CREATE",
              "ALTER",
              "DROP" ->
          WRITE;
      case "WITH" -> WRITE_IN_CTE.matcher(s).find() ? WRITE : OTHER;
      default -> OTHER;
    };
  }

  /** The kinds of the statements of a simple query ("BEGIN; INSERT ...; COMMIT"), in order. */
  static SqlKind[] ofScript(String sql) {
    // Semicolons inside literals would split wrongly; the drivers' own statements have none there.
    return java.util.Arrays.stream(sql.split(";"))
        .filter(part -> !stripLeadingComments(part).isBlank())
        .map(SqlKind::of)
        .toArray(SqlKind[]::new);
  }

  private static String firstWord(String s) {
    int end = 0;
    while (end < s.length() && Character.isLetter(s.charAt(end))) {
      end++;
    }
    return s.substring(0, end);
  }

  private static String stripLeadingComments(String sql) {
    String s = sql.strip();
    while (true) {
      if (s.startsWith("--")) {
        int nl = s.indexOf('\n');
        s = nl < 0 ? "" : s.substring(nl + 1).strip();
      } else if (s.startsWith("/*")) {
        int close = s.indexOf("*/");
        s = close < 0 ? "" : s.substring(close + 2).strip();
      } else {
        return s;
      }
    }
  }
}
