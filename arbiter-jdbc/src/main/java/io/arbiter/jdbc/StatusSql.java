package io.arbiter.jdbc;

import io.arbiter.ClusterStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The operator's view (arbiter status): every member and service, read in one transaction. */
final class StatusSql {
  private final Dialect dialect;

  StatusSql(Dialect dialect) {
    this.dialect = dialect;
  }

  ClusterStatus read(Connection c) throws SQLException {
    Instant dbNow;
    try (PreparedStatement ps = c.prepareStatement("SELECT " + dialect.now() + " AS t");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      dbNow = dialect.readInstant(rs, "t");
    }
    Map<String, Integer> owned = new HashMap<>();
    List<ClusterStatus.Service> services = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, owner_name, owner_incarnation, token, granted_at FROM arbiter_service"
                    + " ORDER BY name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String owner = rs.getString("owner_name");
        String ownerId = owner == null ? null : owner + "#" + rs.getLong("owner_incarnation");
        if (ownerId != null) {
          owned.merge(ownerId, 1, Integer::sum);
        }
        services.add(
            new ClusterStatus.Service(
                rs.getString("name"),
                ownerId,
                rs.getLong("token"),
                dialect.readInstant(rs, "granted_at")));
      }
    }
    List<ClusterStatus.Member> members = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, incarnation, state, "
                    + dialect.millisUntil("lease_expires")
                    + " AS left_ms, joined_at, host, pid FROM arbiter_member ORDER BY name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String id = rs.getString("name") + "#" + rs.getLong("incarnation");
        members.add(
            new ClusterStatus.Member(
                rs.getString("name"),
                rs.getLong("incarnation"),
                rs.getString("state"),
                rs.getLong("left_ms"),
                dialect.readInstant(rs, "joined_at"),
                rs.getString("host"),
                rs.getLong("pid"),
                owned.getOrDefault(id, 0)));
      }
    }
    return new ClusterStatus(dbNow, members, services);
  }
}
