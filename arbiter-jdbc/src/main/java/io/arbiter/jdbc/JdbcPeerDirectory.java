package io.arbiter.jdbc;

import io.arbiter.MemberId;
import io.arbiter.peer.PeerDirectory;
import io.arbiter.time.Ticker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * The peer link's directory read straight from arbiter_member, one SELECT per {@link #snapshot()},
 * and the two writes a master makes to its own row for the link: its address at join, and its view
 * of its peers when that view changes. Nothing runs unless called, so the cost at rest is whatever
 * the caller's schedule makes it. (An engine that already scans the members table can feed the link
 * from that scan instead and save the statement.)
 */
public final class JdbcPeerDirectory implements PeerDirectory {
  private final DataSource dataSource;
  private final String database;
  private final Ticker ticker;
  private final String select;

  JdbcPeerDirectory(DataSource dataSource, Dialect dialect, String jdbcUrl, Ticker ticker) {
    this.dataSource = dataSource;
    this.database = JdbcArbiter.redact(jdbcUrl);
    this.ticker = ticker;
    this.select =
        "SELECT name, incarnation, state, peer_address, "
            + dialect.millisUntil("lease_expires")
            + " AS left_ms, "
            + dialect.millisUntil("renewed_at")
            + " AS renewed_in_ms FROM arbiter_member";
  }

  @Override
  public Snapshot snapshot() {
    // Stamped before the statement is sent: extrapolating from here errs towards less lease left.
    long sent = ticker.nanos();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(select);
        ResultSet rs = ps.executeQuery()) {
      List<Member> members = new ArrayList<>();
      while (rs.next()) {
        members.add(
            new Member(
                rs.getString("name"),
                rs.getLong("incarnation"),
                Optional.ofNullable(rs.getString("peer_address")),
                "ACTIVE".equals(rs.getString("state")),
                rs.getLong("left_ms"),
                -rs.getLong("renewed_in_ms")));
      }
      return new Snapshot(sent, members);
    } catch (SQLException e) {
      throw SqlFailures.translate("reading the members for the peer link", database, e);
    }
  }

  /**
   * Stores where {@code member} listens (column peer_address). Call after each join: a member that
   * rejoins keeps its row, so the address survives, but a restarted process has a new port.
   *
   * @return false if the row is no longer at that incarnation
   */
  public boolean advertise(MemberId member, String peerAddress) {
    return update(
        "UPDATE arbiter_member SET peer_address = ? WHERE name = ? AND incarnation = ?",
        member,
        peerAddress,
        "advertising the peer address of " + member);
  }

  /**
   * Stores {@code member}'s view of its peers (column peer_view, at most 4000 characters). Call it
   * from {@link io.arbiter.peer.PeerLinkListener#onViewChanged}, which fires only on change.
   */
  public boolean publishView(MemberId member, String compactView) {
    return update(
        "UPDATE arbiter_member SET peer_view = ? WHERE name = ? AND incarnation = ?",
        member,
        compactView,
        "writing the peer view of " + member);
  }

  /** Every member's published view, by name, for status and tests. */
  public Map<String, String> publishedViews() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT name, peer_view FROM arbiter_member ORDER BY name");
        ResultSet rs = ps.executeQuery()) {
      Map<String, String> views = new TreeMap<>();
      while (rs.next()) {
        views.put(rs.getString(1), rs.getString(2));
      }
      return views;
    } catch (SQLException e) {
      throw SqlFailures.translate("reading the peer views", database, e);
    }
  }

  private boolean update(String sql, MemberId member, String value, String what) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, value);
      ps.setString(2, member.name());
      ps.setLong(3, member.incarnation());
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw SqlFailures.translate(what, database, e);
    }
  }
}
