package io.arbiter.jdbc;

import io.arbiter.spi.StoredSession;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Shared web sessions' statements, on {@code arbiter_session} and {@code
 * arbiter_session_attribute}. Every statement that reads or writes a session requires it live by
 * the database's clock ({@code expires_at > now}).
 */
final class SessionSql {
  private static final String LIVE = "expires_at > ";

  final String insertSession;
  final String insertAttribute =
      "INSERT INTO arbiter_session_attribute (session_id_hash, name, value) VALUES (?, ?, ?)";
  final String touch;
  final String setAttribute;
  final String removeAttribute;
  final String invalidate = "DELETE FROM arbiter_session WHERE id_hash = ?";
  final String purge;
  final String count = "SELECT COUNT(*) FROM arbiter_session";

  private final Dialect dialect;
  private final String read;

  SessionSql(Dialect dialect) {
    this.dialect = dialect;
    String now = dialect.now();
    read =
        "SELECT s.principal, s.created_at, s.last_access_at, s.max_inactive_ms, s.expires_at, "
            + dialect.millisUntil("s.expires_at")
            + " AS left_ms, "
            + dialect.millisUntil("s.last_access_at")
            + " AS since_ms, a.name, a.value FROM arbiter_session s"
            + " LEFT JOIN arbiter_session_attribute a ON a.session_id_hash = s.id_hash"
            + " WHERE s.id_hash = ? AND s."
            + LIVE
            + now;
    insertSession =
        "INSERT INTO arbiter_session (id_hash, principal, created_at, last_access_at,"
            + " max_inactive_ms, expires_at) VALUES (?, ?, "
            + now
            + ", "
            + now
            + ", ?, "
            + dialect.nowPlusMillisParam()
            + ")";
    touch =
        "UPDATE arbiter_session SET last_access_at = "
            + now
            + ", expires_at = "
            + dialect.nowPlusMillis("max_inactive_ms")
            + " WHERE id_hash = ? AND "
            + LIVE
            + now;
    // INSERT ... SELECT: the attribute is written only if the session is live at that moment.
    setAttribute =
        "INSERT INTO arbiter_session_attribute (session_id_hash, name, value)"
            + " SELECT id_hash, ?, ? FROM arbiter_session WHERE id_hash = ? AND "
            + LIVE
            + now
            + dialect.onConflictUpdate("session_id_hash, name", "value");
    removeAttribute =
        "DELETE FROM arbiter_session_attribute WHERE session_id_hash = ? AND name = ? AND EXISTS"
            + " (SELECT 1 FROM arbiter_session s WHERE s.id_hash = ? AND s."
            + LIVE
            + now
            + ")";
    purge = dialect.deleteLimited("arbiter_session", "id_hash", "expires_at <= " + now);
  }

  /** The live session {@code id} (stored under {@code hash}) with its attributes, if any. */
  Optional<StoredSession> read(Connection c, String id, String hash) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(read)) {
      ps.setString(1, hash);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        String principal = rs.getString("principal");
        Instant createdAt = dialect.readInstant(rs, "created_at");
        Instant lastAccessAt = dialect.readInstant(rs, "last_access_at");
        long maxInactiveMs = rs.getLong("max_inactive_ms");
        Instant expiresAt = dialect.readInstant(rs, "expires_at");
        long leftMs = rs.getLong("left_ms");
        long sinceMs = -rs.getLong("since_ms");
        Map<String, String> attributes = new HashMap<>();
        do {
          String name = rs.getString("name");
          if (name != null) { // the LEFT JOIN's row for a session without attributes
            attributes.put(name, rs.getString("value"));
          }
        } while (rs.next());
        return Optional.of(
            new StoredSession(
                id,
                principal,
                attributes,
                createdAt,
                lastAccessAt,
                Duration.ofMillis(maxInactiveMs),
                expiresAt,
                Duration.ofMillis(Math.max(0, sinceMs)),
                Duration.ofMillis(Math.max(1, leftMs))));
      }
    }
  }
}
