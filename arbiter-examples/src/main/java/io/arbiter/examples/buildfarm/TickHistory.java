package io.arbiter.examples.buildfarm;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads back what the database accepted and checks it. Writes are fenced so that every tick with
 * token t commits before grant t+1 exists; tick ids are assigned at insert, so in id order a
 * service's tokens must never go down, and each (service, token) must belong to one master
 * incarnation. Anything else is a violation: a stale-token write that was accepted.
 */
public final class TickHistory {
  /** The table the workload's services write their fenced ticks to. */
  public static final String TABLE = BuildFarmWorkload.TABLE;

  private TickHistory() {}

  /** A violation, described for a person. */
  public record Violation(String service, String description) {}

  public static List<Violation> violations(Connection c, String servicePrefix) throws SQLException {
    List<Violation> out = new ArrayList<>();
    String backwards =
        "SELECT service, id, token, member, incarnation, max_before FROM (SELECT service, id, token,"
            + " member, incarnation, MAX(token) OVER (PARTITION BY service ORDER BY id ROWS BETWEEN"
            + " UNBOUNDED PRECEDING AND 1 PRECEDING) AS max_before FROM "
            + TABLE
            + " WHERE service LIKE ?) x WHERE token < max_before ORDER BY service, id";
    try (PreparedStatement ps = c.prepareStatement(backwards)) {
      ps.setString(1, servicePrefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Violation(
                  rs.getString("service"),
                  "tick "
                      + rs.getLong("id")
                      + " by "
                      + rs.getString("member")
                      + "#"
                      + rs.getLong("incarnation")
                      + " with token "
                      + rs.getLong("token")
                      + " was accepted after a tick with token "
                      + rs.getLong("max_before")));
        }
      }
    }
    String split =
        "SELECT service, token, MIN(member) AS a, MAX(member) AS b, MIN(incarnation) AS ia,"
            + " MAX(incarnation) AS ib FROM "
            + TABLE
            + " WHERE service LIKE ?"
            + " GROUP BY service, token HAVING MIN(member) <> MAX(member) OR MIN(incarnation) <>"
            + " MAX(incarnation)";
    try (PreparedStatement ps = c.prepareStatement(split)) {
      ps.setString(1, servicePrefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Violation(
                  rs.getString("service"),
                  "token "
                      + rs.getLong("token")
                      + " was used by two masters: "
                      + rs.getString("a")
                      + "#"
                      + rs.getLong("ia")
                      + " and "
                      + rs.getString("b")
                      + "#"
                      + rs.getLong("ib")));
        }
      }
    }
    return out;
  }

  /** Total accepted ticks for services with this prefix. */
  public static long count(Connection c, String servicePrefix) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT COUNT(*) FROM " + TABLE + " WHERE service LIKE ?")) {
      ps.setString(1, servicePrefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
