package io.arbiter.jdbc;

import io.arbiter.events.ConsumerPosition;
import io.arbiter.events.Event;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The cluster event log's statements: append, read, head, consumer positions and purge, on {@code
 * arbiter_event_head}, {@code arbiter_event}, {@code arbiter_event_consumer} and {@code
 * arbiter_event_purged} (the purge watermark). See {@link JdbcEventStore} for why an append bumps
 * the one head row.
 */
final class EventSql {
  private static final String READ =
      "SELECT seq, topic, event_key, payload, publisher, created_at FROM arbiter_event"
          + " WHERE seq > ? ORDER BY seq LIMIT ?";
  private static final String HEAD = "SELECT last_seq FROM arbiter_event_head WHERE id = 1";
  private static final String BUMP_HEAD =
      "UPDATE arbiter_event_head SET last_seq = last_seq + 1 WHERE id = 1";
  private static final String NO_HEAD =
      "arbiter_event_head has no row: is the schema at version 2?";
  private static final String WATERMARK_FOR_UPDATE =
      "SELECT through_seq FROM arbiter_event_purged WHERE id = 1 FOR UPDATE";
  private static final String WATERMARK =
      "SELECT through_seq FROM arbiter_event_purged WHERE id = 1";
  private static final String DELETE_THROUGH = "DELETE FROM arbiter_event WHERE seq <= ?";
  private static final String LOWEST_FOR_UPDATE =
      "SELECT seq FROM arbiter_event ORDER BY seq LIMIT 1 FOR UPDATE";

  private final Dialect dialect;
  private final boolean appendIsOneStatement;
  private final String append;
  private final String upsertPosition;
  private final String lastOldSeq;
  private final String moveWatermark;

  EventSql(Dialect d) {
    this.dialect = d;
    this.appendIsOneStatement = d.supportsWritableCte();
    if (appendIsOneStatement) {
      // One statement: bump the head, insert under the new number, and wake the readers (at
      // commit) where the database pushes.
      append =
          "WITH h AS ("
              + BUMP_HEAD
              + " RETURNING last_seq),"
              + " e AS (INSERT INTO arbiter_event (seq, topic, event_key, payload, publisher,"
              + " created_at) SELECT last_seq, ?, ?, ?, ?, "
              + d.now()
              + " FROM h RETURNING seq)"
              + " SELECT seq"
              + d.notifyExpression(PostgresDialect.EVENT_CHANNEL).map(n -> ", " + n).orElse("")
              + " FROM e";
    } else {
      append =
          "INSERT INTO arbiter_event (seq, topic, event_key, payload, publisher, created_at)"
              + " VALUES (?, ?, ?, ?, ?, "
              + d.now()
              + ")";
    }
    upsertPosition =
        "INSERT INTO arbiter_event_consumer (member_name, delivered_seq, updated_at)"
            + " VALUES (?, ?, "
            + d.now()
            + ")"
            + d.onConflictUpdate("member_name", "delivered_seq", "updated_at");
    lastOldSeq = "SELECT MAX(seq) FROM arbiter_event WHERE created_at < " + d.nowPlusMillisParam();
    moveWatermark =
        "UPDATE arbiter_event_purged SET through_seq = ?, purged_at = "
            + d.now()
            + " WHERE id = 1 AND through_seq < ?";
    // Positions are never deleted by the purge. A position row is rewritten only when it moves
    // (and refreshed now and then), so deleting rows by age used to delete the position of a
    // master that had read everything of a quiet log; if it then restarted it took itself for new
    // and began at the head, skipping what was published while it was down. A row costs a few
    // bytes per member name ever used; an operator deletes the rows of masters gone for good.
  }

  /**
   * True if {@link #append} is one statement, so that on an auto-commit connection it is a whole
   * transaction in one round trip.
   */
  boolean appendIsOneStatement() {
    return appendIsOneStatement;
  }

  /**
   * Appends an event inside the caller's transaction and returns its sequence number. The number is
   * taken by bumping the one head row of the event log; that row lock is held until the transaction
   * ends, so publishers commit in sequence order, and a rollback gives the number back.
   */
  long append(Connection c, String topic, String key, byte[] payload, String publisher)
      throws SQLException {
    if (appendIsOneStatement) {
      try (PreparedStatement ps = c.prepareStatement(append)) {
        ps.setString(1, topic);
        ps.setString(2, key);
        ps.setBytes(3, payload);
        ps.setString(4, publisher);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException(NO_HEAD);
          }
          return rs.getLong(1);
        }
      }
    }
    long seq;
    try (Statement st = c.createStatement()) {
      // No UPDATE ... RETURNING here; our own write is visible to our next statement.
      if (st.executeUpdate(BUMP_HEAD) != 1) {
        throw new SQLException(NO_HEAD);
      }
      try (ResultSet rs = st.executeQuery(HEAD)) {
        rs.next();
        seq = rs.getLong(1);
      }
    }
    try (PreparedStatement ps = c.prepareStatement(append)) {
      ps.setLong(1, seq);
      ps.setString(2, topic);
      ps.setString(3, key);
      ps.setBytes(4, payload);
      ps.setString(5, publisher);
      ps.executeUpdate();
    }
    return seq; // no push here: readers poll
  }

  List<Event> read(Connection c, long afterSeq, int limit) throws SQLException {
    List<Event> events = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(READ)) {
      ps.setLong(1, afterSeq);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          events.add(
              new Event(
                  rs.getLong("seq"),
                  rs.getString("topic"),
                  rs.getString("event_key"),
                  rs.getBytes("payload"),
                  rs.getString("publisher"),
                  dialect.readInstant(rs, "created_at")));
        }
      }
    }
    return events;
  }

  static long head(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(HEAD)) {
      if (!rs.next()) {
        throw new SQLException(NO_HEAD);
      }
      return rs.getLong(1);
    }
  }

  void savePosition(Connection c, String member, long deliveredSeq) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(upsertPosition)) {
      ps.setString(1, member);
      ps.setLong(2, deliveredSeq);
      ps.executeUpdate();
    }
  }

  OptionalLong position(Connection c, String member) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT delivered_seq FROM arbiter_event_consumer WHERE member_name = ?")) {
      ps.setString(1, member);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
      }
    }
  }

  List<ConsumerPosition> positions(Connection c) throws SQLException {
    List<ConsumerPosition> out = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT c.member_name, c.delivered_seq, c.updated_at, h.last_seq"
                    + " FROM arbiter_event_consumer c CROSS JOIN arbiter_event_head h"
                    + " WHERE h.id = 1 ORDER BY c.member_name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new ConsumerPosition(
                rs.getString("member_name"),
                rs.getLong("delivered_seq"),
                rs.getLong("last_seq"),
                dialect.readInstant(rs, "updated_at")));
      }
    }
    return out;
  }

  /** The highest sequence purged so far (0 if none): every event at or below it is gone. */
  static long purgedThrough(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(WATERMARK)) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  /**
   * Deletes the events older than {@code ageMillis} or beyond the newest {@code maxEvents}, as a
   * prefix of the log: everything up to a new watermark, which is recorded in the same transaction.
   * Never the newest event, so that the head stays readable. The watermark also covers what is gone
   * already below the lowest event left. Returns the number of events deleted.
   *
   * <p>The watermark row is locked first, so that purges by several masters run one after the
   * other, and it only moves up. It never reaches a number that is not committed: it stays below
   * the committed head, and a publish in flight holds a number above it.
   */
  int purge(Connection c, long ageMillis, long maxEvents) throws SQLException {
    long current;
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(WATERMARK_FOR_UPDATE)) {
      if (!rs.next()) {
        throw new SQLException(
            "arbiter_event_purged has no row: is the schema at version "
                + SchemaMigrations.CURRENT_VERSION
                + "?");
      }
      current = rs.getLong(1);
    }
    long head = head(c);
    long oldest;
    try (PreparedStatement ps = c.prepareStatement(lastOldSeq)) {
      ps.setLong(1, -ageMillis);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        oldest = rs.getLong(1); // 0 (NULL) when no event is that old
      }
    }
    // Everything below the lowest event left is gone already (numbers commit in order, so each
    // of them committed): deleted by hand, or by a master of schema version 2, whose purge leaves
    // no watermark. Recording it lets readers waiting at such a gap know that it is one. A locking
    // read: InnoDB's plain snapshot could miss a lowest event that is committing right now.
    long lowestLeft;
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(LOWEST_FOR_UPDATE)) {
      lowestLeft = rs.next() ? rs.getLong(1) : 0;
    }
    long through = Math.min(head - 1, Math.max(Math.max(oldest, head - maxEvents), lowestLeft - 1));
    if (through <= current) {
      return 0;
    }
    try (PreparedStatement ps = c.prepareStatement(moveWatermark)) {
      ps.setLong(1, through);
      ps.setLong(2, through);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement(DELETE_THROUGH)) {
      ps.setLong(1, through);
      return ps.executeUpdate();
    }
  }
}
