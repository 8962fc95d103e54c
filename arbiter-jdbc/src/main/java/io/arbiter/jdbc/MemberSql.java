package io.arbiter.jdbc;

import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.spi.Heartbeat;
import io.arbiter.spi.MemberInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Members: join, the heartbeat, expiry, drain, a clean stop and the peer view, on {@code
 * arbiter_member}. Each method runs on the caller's connection, inside the transaction (or
 * auto-commit statement) the store opened for it.
 *
 * <p>A member's lease is renewed only while it is still live by the database's clock ({@code
 * lease_expires > now}); expiry is the explicit {@code UPDATE ... SET state='EXPIRED' WHERE
 * lease_expires <= now}, which races with the owner's own renewal on the same row lock, so exactly
 * one of the two wins.
 */
final class MemberSql {
  private final Dialect dialect;
  private final ChangeEpoch epoch;
  private final String heartbeat;
  private final boolean heartbeatIsProcedure;
  private final String markStopped;
  private final String expireOverdue;

  MemberSql(Dialect d, ChangeEpoch epoch, DatabaseGeneration generation) {
    this.dialect = d;
    this.epoch = epoch;
    markStopped =
        "UPDATE arbiter_member SET state = 'STOPPED', lease_expires = "
            + d.now()
            + " WHERE name = ? AND incarnation = ? AND state = 'ACTIVE'";
    expireOverdue =
        "UPDATE arbiter_member SET state = 'EXPIRED' WHERE state = 'ACTIVE' AND lease_expires <= "
            + d.now();
    heartbeatIsProcedure = !d.supportsWritableCte();
    if (heartbeatIsProcedure) {
      // No writable CTE: the schema's procedure renews and reads back, in one statement too.
      heartbeat = "CALL arbiter_heartbeat(?, ?, ?)";
    } else {
      String renewWhere =
          " WHERE name = ? AND incarnation = ? AND state = 'ACTIVE' AND lease_expires > " + d.now();
      String leaseColumns =
          "(SELECT epoch FROM arbiter_change WHERE id = 1) AS epoch, (SELECT last_seq FROM"
              + " arbiter_event_head WHERE id = 1) AS event_head, m.name, m.incarnation,"
              + " m.state, m.peer_address, "
              + d.millisUntil("m.lease_expires")
              + " AS left_ms, "
              + d.millisUntil("m.renewed_at")
              + " AS renewed_ms, "
              + generation.expression()
              + " AS generation, "
              + generation.synchronousExpression()
              + " AS synchronous FROM arbiter_member m";
      // One statement renews and reads back; the SELECT sees the snapshot from before the UPDATE,
      // which is all it needs (the other members' leases and the epoch).
      heartbeat =
          "WITH renewed AS (UPDATE arbiter_member SET lease_expires = "
              + d.nowPlusMillisParam()
              + ", renewed_at = "
              + d.now()
              + renewWhere
              + " RETURNING 1) SELECT (SELECT COUNT(*) FROM renewed) AS renewed, "
              + leaseColumns;
    }
  }

  /**
   * Joins as {@code name}: a new row at incarnation 1, or the next incarnation of a dead one; never
   * below {@code floor} (see {@link DatabaseGeneration}).
   */
  MemberId join(
      Connection c,
      String name,
      Duration ttl,
      Optional<MemberId> previous,
      MemberInfo info,
      long floor)
      throws SQLException {
    ChangeEpoch.lock(c); // the epoch row first, as every change does: no lock-order deadlock
    Long incarnation = null;
    String state = null;
    long leftMillis = 0;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT incarnation, state, "
                + dialect.millisUntil("lease_expires")
                + " AS left_ms FROM arbiter_member WHERE name = ? FOR UPDATE")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          incarnation = rs.getLong("incarnation");
          state = rs.getString("state");
          leftMillis = rs.getLong("left_ms");
        }
      }
    }
    if (incarnation == null) {
      long first = Math.max(1, floor);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO arbiter_member (name, incarnation, state, lease_expires, joined_at,"
                  + " renewed_at, host, pid, capacity, tags, peer_address) VALUES (?, ?,"
                  + " 'ACTIVE', "
                  + dialect.nowPlusMillisParam()
                  + ", "
                  + dialect.now()
                  + ", "
                  + dialect.now()
                  + ", ?, ?, ?, ?, ?)")) {
        ps.setString(1, name);
        ps.setLong(2, first);
        ps.setLong(3, ttl.toMillis());
        ps.setString(4, info.host());
        ps.setLong(5, info.pid());
        ps.setDouble(6, info.capacity());
        ps.setString(7, joinTags(info.tags()));
        ps.setString(8, info.peerAddress().orElse(null));
        ps.executeUpdate();
        // A new member changes the balance.
        epoch.signal(c);
      } catch (SQLException e) {
        if (dialect.isDuplicateKey(e)) {
          throw new MemberNameInUseException(name, first, ttl); // a concurrent first join won
        }
        throw e;
      }
      return new MemberId(name, first);
    }
    boolean live = "ACTIVE".equals(state) && leftMillis > 0;
    boolean ours = previous.isPresent() && previous.get().incarnation() == incarnation;
    if (live && !ours) {
      throw new MemberNameInUseException(name, incarnation, Duration.ofMillis(leftMillis));
    }
    long next = Math.max(incarnation + 1, floor);
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE arbiter_member SET incarnation = ?, state = 'ACTIVE',"
                + " lease_expires = "
                + dialect.nowPlusMillisParam()
                + ", joined_at = "
                + dialect.now()
                + ", renewed_at = "
                + dialect.now()
                + ", host = ?, pid = ?, capacity = ?, tags = ?, peer_address = COALESCE(?, peer_address), peer_view ="
                + " NULL WHERE name = ?")) {
      ps.setLong(1, next);
      ps.setLong(2, ttl.toMillis());
      ps.setString(3, info.host());
      ps.setLong(4, info.pid());
      ps.setDouble(5, info.capacity());
      ps.setString(6, joinTags(info.tags()));
      ps.setString(7, info.peerAddress().orElse(null));
      ps.setString(8, name);
      ps.executeUpdate();
    }
    // The old incarnation's services are claimable from now on.
    epoch.signal(c);
    return new MemberId(name, next);
  }

  /**
   * One statement that renews {@code member}'s lease (and so every claim it holds) and reads back
   * the change epoch, the event log's head and every member's lease. Runs in auto-commit: one round
   * trip, with no COMMIT after it.
   */
  Renewal heartbeat(Connection c, MemberId member, Duration ttl) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(heartbeat)) {
      if (heartbeatIsProcedure) {
        ps.setString(1, member.name());
        ps.setLong(2, member.incarnation());
        ps.setLong(3, ttl.toMillis());
      } else {
        ps.setLong(1, ttl.toMillis());
        ps.setString(2, member.name());
        ps.setLong(3, member.incarnation());
      }
      try (ResultSet rs = ps.executeQuery()) {
        return readHeartbeat(rs, member);
      }
    }
  }

  /**
   * Reads the heartbeat's rows: one per member, each with the renewal's outcome. With the writable
   * CTE (PostgreSQL) the rows are read from the snapshot before the renewal, so {@code member}'s
   * own row tells the database's age of its previous renewal; MariaDB's procedure reads them after
   * the renewal, so there the age is unknown (-1).
   */
  private Renewal readHeartbeat(ResultSet rs, MemberId member) throws SQLException {
    List<Heartbeat.Lease> leases = new ArrayList<>();
    long epoch = -1;
    long head = -1;
    long generation = 0; // the procedure's databases have none
    boolean synchronous = false;
    boolean ok = false;
    long ownRenewalAge = -1;
    while (rs.next()) {
      ok = rs.getLong("renewed") > 0;
      epoch = rs.getLong("epoch");
      head = rs.getLong("event_head");
      if (!heartbeatIsProcedure) {
        generation = rs.getLong("generation");
        synchronous = rs.getBoolean("synchronous");
      }
      Heartbeat.Lease lease =
          new Heartbeat.Lease(
              rs.getString("name"),
              rs.getLong("incarnation"),
              "ACTIVE".equals(rs.getString("state")),
              rs.getLong("left_ms"),
              -rs.getLong("renewed_ms"),
              Optional.ofNullable(rs.getString("peer_address")));
      leases.add(lease);
      if (!heartbeatIsProcedure
          && lease.name().equals(member.name())
          && lease.incarnation() == member.incarnation()) {
        ownRenewalAge = Math.max(0, lease.millisSinceRenewal());
      }
    }
    return new Renewal(
        new Heartbeat(ok, epoch, leases, head, ownRenewalAge),
        new DatabaseGeneration.Reading(generation, synchronous));
  }

  /** A heartbeat, and the database generation it ran on (see {@link DatabaseGeneration}). */
  record Renewal(Heartbeat heartbeat, DatabaseGeneration.Reading generation) {}

  /** Stores {@code member}'s view of its peers (at most 4000 characters). */
  int publishPeerView(Connection c, MemberId member, String view) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE arbiter_member SET peer_view = ? WHERE name = ? AND incarnation = ?")) {
      ps.setString(1, view.length() > 4000 ? view.substring(0, 4000) : view);
      ps.setString(2, member.name());
      ps.setLong(3, member.incarnation());
      return ps.executeUpdate();
    }
  }

  /** Marks {@code member} STOPPED (a clean stop), with its lease ended now. */
  void markStopped(Connection c, MemberId member) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(markStopped)) {
      ps.setString(1, member.name());
      ps.setLong(2, member.incarnation());
      ps.executeUpdate();
    }
  }

  /** Marks every member whose lease has run out by the database's clock EXPIRED. */
  int expireOverdue(Connection c) throws SQLException {
    ChangeEpoch.lock(c); // the epoch row first, as every change does: no lock-order deadlock
    int n;
    try (PreparedStatement ps = c.prepareStatement(expireOverdue)) {
      n = ps.executeUpdate();
    }
    if (n > 0) {
      epoch.signal(c);
    }
    return n;
  }

  boolean setDraining(Connection c, String member, boolean draining) throws SQLException {
    ChangeEpoch.lock(c); // the epoch row first, as every change does: no lock-order deadlock
    int n;
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE arbiter_member SET draining = ? WHERE name = ?")) {
      ps.setBoolean(1, draining);
      ps.setString(2, member);
      n = ps.executeUpdate();
    }
    if (n > 0) {
      epoch.signal(c);
    }
    return n > 0;
  }

  static String joinTags(Set<String> tags) {
    return String.join(",", new TreeSet<>(tags));
  }

  static Set<String> splitTags(String tags) {
    Set<String> out = new TreeSet<>();
    if (tags != null) {
      for (String t : tags.split(",")) {
        if (!t.isBlank()) {
          out.add(t.strip());
        }
      }
    }
    return out;
  }
}
