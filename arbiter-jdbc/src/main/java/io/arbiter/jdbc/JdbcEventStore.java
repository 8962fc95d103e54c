package io.arbiter.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.ArbiterException;
import io.arbiter.events.ConsumerPosition;
import io.arbiter.events.Event;
import io.arbiter.events.EventLimits;
import io.arbiter.spi.EventStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import javax.sql.DataSource;

/**
 * The cluster event log on PostgreSQL and MariaDB/MySQL.
 *
 * <p><b>Ordering.</b> A publish bumps the single row of {@code arbiter_event_head} and inserts the
 * event with the new number, in one transaction. The head row's lock is held until that transaction
 * ends, so a second publisher waits for the first to commit (or roll back, which gives the number
 * back) before it takes the next number. Hence numbers commit in order and without gaps, and a
 * reader that has read up to N cannot later find an event below N: the trap of sequence-allocated
 * ids (7 commits after 8 was read, and the reader's position skips it) cannot happen. The price is
 * that publishers serialize on one row for the length of their transaction: a publish costs a few
 * hundred microseconds of lock time when on its own, and a publish inside a caller's transaction
 * should come last in it.
 *
 * <p><b>Snapshots.</b> In-order commits are not quite enough on MariaDB, whose InnoDB can take a
 * read snapshot that shows an event but not the one below it, committed a moment earlier. {@link
 * #read} therefore reads again when it finds a gap and trusts a gap only if the new snapshot shows
 * it too ({@link ReadGaps}); a purge is the only gap that survives.
 *
 * <p><b>Wake-ups.</b> On PostgreSQL each publish also NOTIFYs {@value
 * PostgresDialect#EVENT_CHANNEL} (delivered at commit), which {@link #listen} turns into wake-ups;
 * MariaDB has no push and readers poll.
 */
public final class JdbcEventStore implements EventStore {
  private static final String READ =
      "SELECT seq, topic, event_key, payload, publisher, created_at FROM arbiter_event"
          + " WHERE seq > ? ORDER BY seq LIMIT ?";
  private static final String HEAD = "SELECT last_seq FROM arbiter_event_head WHERE id = 1";
  private static final int PUBLISH_ATTEMPTS = 3;

  private final DataSource dataSource;
  private final Dialect dialect;
  private final int maxPayloadBytes;
  private final String database;
  private final Transactions transactions;
  private final boolean ownsDataSource;

  private JdbcEventStore(
      DataSource dataSource,
      Dialect dialect,
      int maxPayloadBytes,
      String database,
      boolean ownsDataSource) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.maxPayloadBytes = EventLimits.validateMaxPayloadBytes(maxPayloadBytes);
    this.database = database;
    this.transactions = new Transactions(dataSource, database);
    this.ownsDataSource = ownsDataSource;
  }

  /**
   * A store on a data source the caller owns (the cluster's pool, say; the reader and, on
   * PostgreSQL, the listener each hold one connection of it while they work), with the default
   * payload limit of {@value EventLimits#DEFAULT_MAX_PAYLOAD_BYTES} bytes. The schema must be at
   * version 2 (the cluster store creates it, or {@link #initializeSchema}).
   */
  public static JdbcEventStore create(DataSource dataSource, Dialect dialect) {
    return create(dataSource, dialect, EventLimits.DEFAULT_MAX_PAYLOAD_BYTES);
  }

  /** As above with a payload limit of {@code maxPayloadBytes}. */
  public static JdbcEventStore create(DataSource dataSource, Dialect dialect, int maxPayloadBytes) {
    return new JdbcEventStore(
        dataSource, dialect, maxPayloadBytes, dialect.name() + " database", false);
  }

  /**
   * A store with a pool of its own ({@code poolSize} connections, timeouts from {@code timeout}),
   * closed with the store. Used by benchmarks and tests that play several masters in one JVM.
   */
  public static JdbcEventStore open(
      String jdbcUrl, String user, String password, Duration timeout, int poolSize) {
    Dialect dialect = Dialect.forUrl(jdbcUrl);
    HikariDataSource pool =
        ArbiterDataSources.create(
            jdbcUrl, user, password, timeout, poolSize, "arbiter-events", dialect.sessionInitSql());
    return new JdbcEventStore(
        pool,
        dialect,
        EventLimits.DEFAULT_MAX_PAYLOAD_BYTES,
        JdbcClusterStore.redact(jdbcUrl),
        true);
  }

  /** Creates or upgrades the schema (all of Arbiter's tables), as the cluster store does. */
  public void initializeSchema() {
    transactions.ensureSchema(dialect, true);
  }

  public Dialect dialect() {
    return dialect;
  }

  @Override
  public int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  /**
   * Publishes in a transaction of its own. A wait for the head row longer than the pool's lock
   * timeout (1 s) rolls back and tries again, up to {@value #PUBLISH_ATTEMPTS} times in all: the
   * failed attempt published nothing, so a retry cannot publish twice.
   */
  @Override
  public long publish(String publisher, String topic, String key, byte[] payload) {
    EventLimits.check(topic, key, payload, maxPayloadBytes);
    for (int attempt = 1; ; attempt++) {
      try {
        return publishOnce(publisher, topic, key, payload);
      } catch (SQLException e) {
        if (attempt < PUBLISH_ATTEMPTS && SqlFailures.isLockTimeout(e)) {
          continue;
        }
        throw SqlFailures.translate("publishing an event on '" + topic + "'", database, e);
      }
    }
  }

  private long publishOnce(String publisher, String topic, String key, byte[] payload)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      if (autoCommit && dialect.insertsEventInOneStatement()) {
        // One statement on an auto-commit connection is a whole transaction: one round trip.
        return dialect.insertEvent(c, topic, key, payload, publisher);
      }
      c.setAutoCommit(false);
      try {
        long seq = dialect.insertEvent(c, topic, key, payload, publisher);
        c.commit();
        return seq;
      } catch (Throwable e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    }
  }

  @Override
  public long publish(
      Connection transaction, String publisher, String topic, String key, byte[] payload) {
    EventLimits.check(topic, key, payload, maxPayloadBytes);
    if (transaction == null) {
      throw new IllegalArgumentException("publish: the transaction's connection must not be null");
    }
    try {
      return dialect.insertEvent(transaction, topic, key, payload, publisher);
    } catch (SQLException e) {
      throw SqlFailures.translate(
          "publishing an event on '" + topic + "' in the caller's transaction", database, e);
    }
  }

  /**
   * Up to {@code limit} events after {@code afterSeq}, in order. A number is skipped only if it is
   * gone for good (purged): a read that finds a gap reads again with a new snapshot, and returns
   * only what the two reads agree on ({@link ReadGaps}).
   */
  @Override
  public List<Event> read(long afterSeq, int limit) {
    List<Event> first = readOnce(afterSeq, limit);
    if (!ReadGaps.hasGap(afterSeq, first)) {
      return first;
    }
    List<Event> again = readOnce(afterSeq, limit);
    return ReadGaps.confirmedPrefix(afterSeq, first, again);
  }

  private List<Event> readOnce(long afterSeq, int limit) {
    return oneStatement(
        "reading the event log after seq " + afterSeq,
        c -> {
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
        });
  }

  @Override
  public long head() {
    return oneStatement("reading the event log's head", JdbcEventStore::head);
  }

  /** The head, read on the caller's connection (for a heartbeat that batches its statements). */
  public static long head(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(HEAD)) {
      if (!rs.next()) {
        throw new SQLException("arbiter_event_head has no row: is the schema at version 2?");
      }
      return rs.getLong(1);
    }
  }

  @Override
  public void savePosition(String member, long deliveredSeq) {
    oneStatement(
        "saving the event log position of " + member,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(dialect.upsertEventPosition())) {
            ps.setString(1, member);
            ps.setLong(2, deliveredSeq);
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public OptionalLong position(String member) {
    return oneStatement(
        "reading the event log position of " + member,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT delivered_seq FROM arbiter_event_consumer WHERE member_name = ?")) {
            ps.setString(1, member);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
          }
        });
  }

  @Override
  public List<ConsumerPosition> positions() {
    return oneStatement(
        "reading the event log positions",
        c -> {
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
        });
  }

  @Override
  public int purge(Duration maxAge, long maxEvents) {
    if (maxEvents < 1) {
      throw new IllegalArgumentException("purge: maxEvents must be at least 1, was " + maxEvents);
    }
    long ageMillis = maxAge.toMillis();
    return inTransaction(
        "purging the event log",
        c -> {
          int n;
          // Both keep the newest event, so that the head stays readable and a reader that finds
          // its next number missing knows it was purged rather than never written.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM arbiter_event WHERE seq < (SELECT last_seq FROM arbiter_event_head"
                      + " WHERE id = 1) AND (created_at < "
                      + dialect.nowPlusMillisParam()
                      + " OR seq <= (SELECT last_seq FROM arbiter_event_head WHERE id = 1) - ?)")) {
            ps.setLong(1, -ageMillis);
            ps.setLong(2, maxEvents);
            n = ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM arbiter_event_consumer WHERE updated_at < "
                      + dialect.nowPlusMillisParam())) {
            ps.setLong(1, -ageMillis);
            ps.executeUpdate();
          }
          return n;
        });
  }

  @Override
  public boolean pushesWakeups() {
    return dialect.supportsPushNotification();
  }

  @Override
  public AutoCloseable listen(Runnable onWake, Duration checkInterval) {
    if (!pushesWakeups()) {
      throw new ArbiterException(
          "the " + dialect.name() + " event store has no push wake-ups: readers poll");
    }
    EventListener listener = new EventListener(dataSource, onWake, checkInterval);
    listener.start();
    return listener;
  }

  @Override
  public void close() {
    if (ownsDataSource && dataSource instanceof HikariDataSource h) {
      h.close();
    }
  }

  /** One statement, in auto-commit: one round trip for each read and each position saved. */
  private <T> T oneStatement(String what, Transactions.Work<T> work) {
    return transactions.oneStatement(what, work);
  }

  private <T> T inTransaction(String what, Transactions.Work<T> work) {
    return transactions.inTransaction(what, work);
  }

  private static void rollbackQuietly(Connection c) {
    Transactions.rollbackQuietly(c);
  }
}
