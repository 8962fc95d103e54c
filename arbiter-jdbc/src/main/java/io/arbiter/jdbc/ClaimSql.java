package io.arbiter.jdbc;

import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Claims: who owns a service and under which fencing token, on {@code arbiter_service}.
 *
 * <p>The safety of claims rests on one rule: a service is claimable only on <em>positive
 * evidence</em> that its owner is dead: the owner's member row shows a newer incarnation, or the
 * same incarnation in a non-ACTIVE state. Both facts are permanent once true, so a statement that
 * reads an older version of a member row (a snapshot taken before a join committed) can only see
 * "alive" where the truth is "dead", which delays a claim but never duplicates it. Every grant does
 * {@code token = token + 1}: tokens strictly increase and are never reused; after a failover that
 * lost commits, the floor of the database's new generation keeps them so ({@link
 * DatabaseGeneration}).
 */
final class ClaimSql {
  /** Services claimed (or released) in one statement at most (bounds the IN list). */
  static final int MAX_BATCH = 500;

  private static final String DEAD_OWNER =
      "EXISTS (SELECT 1 FROM arbiter_member m WHERE m.name = arbiter_service.owner_name AND"
          + " (m.incarnation > arbiter_service.owner_incarnation OR (m.incarnation ="
          + " arbiter_service.owner_incarnation AND m.state <> 'ACTIVE')))";

  private final Dialect dialect;
  private final ChangeEpoch epoch;
  private final String claimable;
  private final String claim;
  private final String releaseAll;
  private final String releaseOne;
  private final String releaseMany;
  private final String lockClaimable;

  ClaimSql(Dialect d, ChangeEpoch epoch, DatabaseGeneration generation) {
    this.dialect = d;
    this.epoch = epoch;
    claimable = "SELECT name FROM arbiter_service WHERE owner_name IS NULL OR " + DEAD_OWNER;
    // SKIP LOCKED: a row share-locked by a fenced writer (perhaps a master frozen in the middle of
    // its write) is left for a later round instead of being waited for. Only on the generation the
    // claimer joined on (when known): a master whose claim loop runs on a new timeline before its
    // heartbeat has noticed it must not act on rows that lost commits may have rolled back.
    lockClaimable =
        "SELECT name FROM arbiter_service WHERE name IN (%s) AND (owner_name IS NULL OR "
            + DEAD_OWNER
            + ") AND (? < 0 OR ("
            + generation.expression()
            + ") = ?) ORDER BY name FOR UPDATE SKIP LOCKED";
    // The claimer's own lease must be live too: a claim is a write made for an owner, so it is
    // fenced like any other.
    claim =
        "UPDATE arbiter_service SET owner_name = ?, owner_incarnation = ?, token = GREATEST(token"
            + " + 1, "
            + generation.floor()
            + "), granted_at = "
            + d.now()
            + ", released_at = NULL, changed_epoch = "
            + ChangeEpoch.CURRENT
            + " WHERE name IN (%s) AND (owner_name IS NULL OR "
            + DEAD_OWNER
            + ") AND EXISTS (SELECT 1 FROM arbiter_member me WHERE me.name = ? AND"
            + " me.incarnation = ? AND me.state = 'ACTIVE' AND me.lease_expires > "
            + d.now()
            + ")";
    String release =
        "UPDATE arbiter_service SET owner_name = NULL, owner_incarnation = NULL, released_at = "
            + d.now()
            + ", changed_epoch = "
            + ChangeEpoch.CURRENT;
    releaseAll = release + " WHERE owner_name = ? AND owner_incarnation = ?";
    releaseMany =
        release + " WHERE owner_name = ? AND owner_incarnation = ? AND (name, token) IN (%s)";
    releaseOne =
        release + " WHERE name = ? AND token = ? AND owner_name = ? AND owner_incarnation = ?";
  }

  List<String> claimable(Connection c) throws SQLException {
    List<String> names = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(claimable);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  /**
   * Claims at most {@link #MAX_BATCH} services for {@code member}; returns the grants won, or none
   * (and the transaction rolled back) if nothing was claimable.
   */
  List<FencingToken> claimBatch(
      Connection c, MemberId member, long joinedGeneration, List<String> services)
      throws SQLException {
    List<FencingToken> won = new ArrayList<>();
    // The rows first, skipping those another transaction holds (see ChangeEpoch): a writer frozen
    // with its service's row share-locked costs that service only, and only until the database
    // ends its idle transaction; the epoch row is taken only when there is something to claim.
    List<String> locked = lockClaimable(c, services, joinedGeneration);
    if (locked.isEmpty()) {
      return won;
    }
    String in = String.join(", ", Collections.nCopies(locked.size(), "?"));
    epoch.signal(c);
    int claimed;
    try (PreparedStatement ps = c.prepareStatement(String.format(claim, in))) {
      int i = 1;
      ps.setString(i++, member.name());
      ps.setLong(i++, member.incarnation());
      for (String s : locked) {
        ps.setString(i++, s);
      }
      ps.setString(i++, member.name());
      ps.setLong(i, member.incarnation());
      claimed = ps.executeUpdate();
    }
    if (claimed == 0) {
      // Nothing changed: undo the epoch bump, so the other masters are not woken for nothing.
      c.rollback();
      return won;
    }
    // We hold the row locks from the UPDATE, so this reads our own grants. The caller passes no
    // service this incarnation already owned, so every row owned by it here was granted now.
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT name, token FROM arbiter_service WHERE owner_name = ? AND owner_incarnation = ?"
                + " AND name IN ("
                + in
                + ")")) {
      int i = 1;
      ps.setString(i++, member.name());
      ps.setLong(i++, member.incarnation());
      for (String s : locked) {
        ps.setString(i++, s);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          won.add(new FencingToken(rs.getString(1), rs.getLong(2), member));
        }
      }
    }
    return won;
  }

  private List<String> lockClaimable(Connection c, List<String> services, long joinedGeneration)
      throws SQLException {
    List<String> locked = new ArrayList<>();
    String in = String.join(", ", Collections.nCopies(services.size(), "?"));
    try (PreparedStatement ps = c.prepareStatement(String.format(lockClaimable, in))) {
      int i = 1;
      for (String s : services) {
        ps.setString(i++, s);
      }
      ps.setLong(i++, joinedGeneration);
      ps.setLong(i, joinedGeneration);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          locked.add(rs.getString(1));
        }
      }
    }
    return locked;
  }

  /**
   * Locks the rows {@code member} owns, before the caller takes the epoch row (see ChangeEpoch);
   * returns whether there are any. Waits for a row another transaction holds (up to the session's
   * lock timeout) while holding nothing that others need.
   */
  boolean lockOwned(Connection c, MemberId member) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT name FROM arbiter_service WHERE owner_name = ? AND owner_incarnation = ?"
                + " ORDER BY name FOR UPDATE")) {
      ps.setString(1, member.name());
      ps.setLong(2, member.incarnation());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Locks the rows of {@code tokens} still granted under them; returns how many there are. */
  private int lockGranted(Connection c, List<FencingToken> tokens) throws SQLException {
    String pairs =
        String.join(
            " OR ",
            Collections.nCopies(
                tokens.size(),
                "(name = ? AND token = ? AND owner_name = ? AND owner_incarnation = ?)"));
    int n = 0;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT name FROM arbiter_service WHERE " + pairs + " ORDER BY name FOR UPDATE")) {
      int i = 1;
      for (FencingToken t : tokens) {
        ps.setString(i++, t.service());
        ps.setLong(i++, t.value());
        ps.setString(i++, t.holder().name());
        ps.setLong(i++, t.holder().incarnation());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          n++;
        }
      }
    }
    return n;
  }

  /** Releases every claim of {@code member} (a clean stop); the caller has signalled. */
  void releaseAll(Connection c, MemberId member) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(releaseAll)) {
      ps.setString(1, member.name());
      ps.setLong(2, member.incarnation());
      ps.executeUpdate();
    }
  }

  boolean release(Connection c, FencingToken token) throws SQLException {
    if (lockGranted(c, List.of(token)) == 0) {
      return false; // no longer ours: nothing changes, no epoch bump
    }
    epoch.signal(c); // after the row, before the change: see ChangeEpoch
    try (PreparedStatement ps = c.prepareStatement(releaseOne)) {
      ps.setString(1, token.service());
      ps.setLong(2, token.value());
      ps.setString(3, token.holder().name());
      ps.setLong(4, token.holder().incarnation());
      return ps.executeUpdate() == 1;
    }
  }

  int release(Connection c, List<FencingToken> tokens) throws SQLException {
    int granted = 0;
    for (int from = 0; from < tokens.size(); from += MAX_BATCH) {
      granted += lockGranted(c, tokens.subList(from, Math.min(tokens.size(), from + MAX_BATCH)));
    }
    if (granted == 0) {
      return 0; // none is ours any more: nothing changes, no epoch bump
    }
    epoch.signal(c); // after the rows, before the change: see ChangeEpoch
    int released = 0;
    // One statement per holder and chunk (not one per service): the epoch row stays locked until
    // the commit, and every other master's claim or release waits for it.
    Map<MemberId, List<FencingToken>> byHolder = new LinkedHashMap<>();
    tokens.forEach(t -> byHolder.computeIfAbsent(t.holder(), k -> new ArrayList<>()).add(t));
    for (Map.Entry<MemberId, List<FencingToken>> e : byHolder.entrySet()) {
      List<FencingToken> all = e.getValue();
      for (int from = 0; from < all.size(); from += MAX_BATCH) {
        List<FencingToken> chunk = all.subList(from, Math.min(all.size(), from + MAX_BATCH));
        String pairs = String.join(", ", Collections.nCopies(chunk.size(), "(?, ?)"));
        try (PreparedStatement ps = c.prepareStatement(String.format(releaseMany, pairs))) {
          int i = 1;
          ps.setString(i++, e.getKey().name());
          ps.setLong(i++, e.getKey().incarnation());
          for (FencingToken t : chunk) {
            ps.setString(i++, t.service());
            ps.setLong(i++, t.value());
          }
          released += ps.executeUpdate();
        }
      }
    }
    return released;
  }

  /**
   * Releases {@code token} after its service failed to start, recording where it failed, so that
   * the balancer gives it to another master.
   */
  boolean releaseFailedStart(Connection c, FencingToken token) throws SQLException {
    if (lockGranted(c, List.of(token)) == 0) {
      return false;
    }
    epoch.signal(c); // after the row, before the change: see ChangeEpoch
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE arbiter_service SET owner_name = NULL, owner_incarnation = NULL,"
                + " released_at = "
                + dialect.now()
                + ", start_failed_by = ?, changed_epoch = "
                + ChangeEpoch.CURRENT
                + " WHERE name = ? AND token = ? AND owner_name = ? AND owner_incarnation = ?")) {
      ps.setString(1, token.holder().name() + "#" + token.holder().incarnation());
      ps.setString(2, token.service());
      ps.setLong(3, token.value());
      ps.setString(4, token.holder().name());
      ps.setLong(5, token.holder().incarnation());
      return ps.executeUpdate() == 1;
    }
  }

  Optional<FencingToken> currentGrant(Connection c, String service) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT owner_name, owner_incarnation, token FROM arbiter_service WHERE name = ?")) {
      ps.setString(1, service);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getString(1) == null) {
          return Optional.empty();
        }
        return Optional.of(
            new FencingToken(service, rs.getLong(3), new MemberId(rs.getString(1), rs.getLong(2))));
      }
    }
  }
}
