package io.arbiter.jdbc;

import io.arbiter.ArbiterException;
import io.arbiter.events.ConsumerPosition;
import io.arbiter.events.Event;
import io.arbiter.events.EventLimits;
import io.arbiter.spi.EventStore;
import io.arbiter.time.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
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
 * <p><b>Snapshots and purges.</b> In-order commits are not quite enough on MariaDB, whose InnoDB
 * can take a read snapshot that shows an event but not the one below it, committed a moment
 * earlier. The purge deletes a prefix of the log and records how far in {@code
 * arbiter_event_purged} (the watermark); {@link #read} passes over a missing number only if it is
 * at or below the watermark, and otherwise stops before it and reads it later ({@link ReadGaps}).
 *
 * <p><b>Wake-ups.</b> On PostgreSQL each publish also NOTIFYs {@value
 * PostgresDialect#EVENT_CHANNEL} (delivered at commit), which {@link #listen} turns into wake-ups;
 * MariaDB has no push and readers poll.
 *
 * <p>Get one from {@link JdbcArbiter#eventStore()}; the statements are in {@link EventSql}.
 */
public final class JdbcEventStore implements EventStore {
  private static final int PUBLISH_ATTEMPTS = 3;

  private final DataSource dataSource;
  private final Dialect dialect;
  private final EventSql sql;
  private final int maxPayloadBytes;
  private final String database;
  private final Transactions transactions;
  private final SchemaMigrations schema;
  private final boolean createSchema;
  private final List<AutoCloseable> owned;
  private final MissingEventWatch missing;

  /**
   * @param owned closed with the store
   */
  JdbcEventStore(
      DataSource dataSource,
      Dialect dialect,
      int maxPayloadBytes,
      boolean createSchema,
      String database,
      List<AutoCloseable> owned) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.sql = new EventSql(dialect);
    this.maxPayloadBytes = EventLimits.validateMaxPayloadBytes(maxPayloadBytes);
    this.createSchema = createSchema;
    this.database = database;
    this.transactions = new Transactions(dataSource, database);
    this.schema = new SchemaMigrations(dialect, database);
    this.owned = List.copyOf(owned);
    this.missing = new MissingEventWatch(Ticker.system(), database);
  }

  /**
   * Checks the schema (all of Arbiter's tables), and creates or upgrades it when the builder
   * allowed it ({@code JdbcArbiter.Builder.createSchema}), as the cluster store does.
   */
  public void initializeSchema() {
    schema.ensure(dataSource, createSchema);
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
      if (autoCommit && sql.appendIsOneStatement()) {
        // One statement on an auto-commit connection is a whole transaction: one round trip.
        return sql.append(c, topic, key, payload, publisher);
      }
      c.setAutoCommit(false);
      long seq;
      try {
        seq = sql.append(c, topic, key, payload, publisher);
        c.commit();
      } catch (Throwable e) {
        // The first failure is the one reported (see Transactions.inTransaction).
        if (Transactions.rollback(c, e) && autoCommit) {
          Transactions.restoreAutoCommit(c, e);
        }
        throw e;
      }
      if (autoCommit) {
        Transactions.restoreAutoCommit(c, null);
      }
      return seq;
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
      return sql.append(transaction, topic, key, payload, publisher);
    } catch (SQLException e) {
      throw SqlFailures.translate(
          "publishing an event on '" + topic + "' in the caller's transaction", database, e);
    }
  }

  /**
   * Up to {@code limit} events after {@code afterSeq}, in order. A number is skipped only if it is
   * gone for good: at or below the purge watermark ({@link ReadGaps}). The read stops before a
   * number missing above the watermark; when a new snapshot does not show it either, the next read
   * starts there again, and {@link MissingEventWatch} warns if it stays missing.
   */
  @Override
  public List<Event> read(long afterSeq, int limit) {
    List<Event> first = readOnce(afterSeq, limit);
    if (!ReadGaps.hasGap(afterSeq, first)) {
      passed(first);
      return first;
    }
    // Read after the events: a purge whose gap the read shows has moved the watermark by now.
    long purged = purgedThrough();
    if (ReadGaps.firstUnseen(afterSeq, first, purged) < 0) {
      passed(first);
      return first;
    }
    // Not purged: most likely a snapshot that missed a commit (MariaDB). A new one shows it.
    List<Event> again = readOnce(afterSeq, limit);
    purged = purgedThrough();
    long unseen = ReadGaps.firstUnseen(afterSeq, again, purged);
    List<Event> usable = ReadGaps.purgedGapsOnly(afterSeq, again, purged);
    passed(usable);
    if (unseen >= 0) {
      missing.stoppedBefore(unseen, purged);
    }
    return usable;
  }

  private void passed(List<Event> events) {
    if (!events.isEmpty()) {
      missing.readThrough(events.get(events.size() - 1).seq());
    }
  }

  @Override
  public long purgedThrough() {
    return transactions.oneStatement(
        "reading the event log's purge watermark", EventSql::purgedThrough);
  }

  /** One statement, in auto-commit: one round trip for each read and each position saved. */
  private List<Event> readOnce(long afterSeq, int limit) {
    return transactions.oneStatement(
        "reading the event log after seq " + afterSeq, c -> sql.read(c, afterSeq, limit));
  }

  @Override
  public long head() {
    return transactions.oneStatement("reading the event log's head", EventSql::head);
  }

  /** The head, read on the caller's connection (for a heartbeat that batches its statements). */
  public static long head(Connection c) throws SQLException {
    return EventSql.head(c);
  }

  @Override
  public void savePosition(String member, long deliveredSeq) {
    transactions.oneStatement(
        "saving the event log position of " + member,
        c -> {
          sql.savePosition(c, member, deliveredSeq);
          return null;
        });
  }

  @Override
  public OptionalLong position(String member) {
    return transactions.oneStatement(
        "reading the event log position of " + member, c -> sql.position(c, member));
  }

  @Override
  public List<ConsumerPosition> positions() {
    return transactions.oneStatement("reading the event log positions", sql::positions);
  }

  @Override
  public int purge(Duration maxAge, long maxEvents) {
    if (maxEvents < 1) {
      throw new IllegalArgumentException("purge: maxEvents must be at least 1, was " + maxEvents);
    }
    long ageMillis = maxAge.toMillis();
    return transactions.inTransaction(
        "purging the event log", c -> sql.purge(c, ageMillis, maxEvents));
  }

  @Override
  public boolean pushesWakeups() {
    return dialect.supportsPushNotification();
  }

  @Override
  public AutoCloseable listen(Runnable onWake, Duration checkInterval) {
    if (!pushesWakeups()) {
      throw new UnsupportedOperationException(
          "the "
              + dialect.name()
              + " event store has no push wake-ups (see pushesWakeups()): readers"
              + " poll");
    }
    EventListener listener = new EventListener(dataSource, onWake, checkInterval);
    listener.start();
    return listener;
  }

  @Override
  public void close() {
    for (AutoCloseable closeable : owned) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new ArbiterException("closing the connection pools of " + database, e);
      }
    }
  }
}
