package io.arbiter.jdbc;

import io.arbiter.MemberId;
import io.arbiter.balance.MemberSpec;
import io.arbiter.spi.ClusterFacts;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the balancer reads: the live members with their capacities and tags, and the services
 * changed since a given epoch (all of them for a full read), in one transaction.
 */
final class FactsSql {
  private final String members;
  private final String services;

  FactsSql(Dialect d) {
    members =
        "SELECT name, incarnation, capacity, tags, draining, peer_address, "
            + d.millisUntil("lease_expires")
            + " AS left_ms FROM arbiter_member WHERE state = 'ACTIVE'";
    services =
        "SELECT name, weight, required_tag, pinned_to, anti_affinity, run_local, move_to,"
            + " owner_name, owner_incarnation, token, start_failed_by FROM arbiter_service";
  }

  /**
   * @param sinceEpoch read only services changed after this epoch; negative for all
   */
  ClusterFacts read(Connection c, long sinceEpoch) throws SQLException {
    long epoch = ChangeEpoch.read(c);
    List<ClusterFacts.Member> live = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(members);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String name = rs.getString("name");
        live.add(
            new ClusterFacts.Member(
                name,
                rs.getLong("incarnation"),
                new MemberSpec(
                    name,
                    rs.getDouble("capacity"),
                    MemberSql.splitTags(rs.getString("tags")),
                    rs.getBoolean("draining")),
                Optional.ofNullable(rs.getString("peer_address")),
                rs.getLong("left_ms")));
      }
    }
    List<ClusterFacts.Service> changed = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                sinceEpoch < 0 ? services : services + " WHERE changed_epoch > " + sinceEpoch);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String owner = rs.getString("owner_name");
        changed.add(
            new ClusterFacts.Service(
                ServiceSql.spec(rs),
                Optional.ofNullable(rs.getString("move_to")),
                owner == null
                    ? Optional.empty()
                    : Optional.of(new MemberId(owner, rs.getLong("owner_incarnation"))),
                rs.getLong("token"),
                parseMemberId(rs.getString("start_failed_by"))));
      }
    }
    return new ClusterFacts(epoch, live, changed);
  }

  private static Optional<MemberId> parseMemberId(String id) {
    if (id == null) {
      return Optional.empty();
    }
    int hash = id.lastIndexOf('#');
    try {
      return Optional.of(
          new MemberId(id.substring(0, hash), Long.parseLong(id.substring(hash + 1))));
    } catch (RuntimeException e) {
      return Optional.empty(); // not written by this code; ignore rather than fail the balancer
    }
  }
}
