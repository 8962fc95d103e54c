package io.arbiter.spi;

import io.arbiter.events.ConsumerPosition;
import io.arbiter.events.Event;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * Storage of the cluster event log: an ordered, durable list of events in the shared database, and
 * each member's saved read position.
 *
 * <p>The one promise every implementation must keep: <b>sequence numbers become visible in
 * order</b>. Once a reader has seen seq N committed, no event with a number below N may commit
 * later. Then a reader that has read everything up to N has missed nothing, and its saved position
 * is all it needs to resume. (A log that allocated numbers from a database sequence would break
 * this: a transaction holding 7 can commit after one holding 8 was read.)
 *
 * <p>And its twin for reads: <b>{@link #read} skips a number only if that event is gone for
 * good</b>: purged by retention, which the store knows exactly because a purge deletes a prefix of
 * the log and records how far ({@link #purgedThrough}). A database whose snapshots can show an
 * event without the one just below it (InnoDB's can, for a moment) must not pass that gap on: a
 * missing number above the watermark is not visible yet, and the read stops before it.
 *
 * <p>Methods throw {@link io.arbiter.StoreUnavailableException} when the database does not answer
 * (transient: retry) and {@link io.arbiter.events.InvalidEventException} for an event over a limit.
 */
public interface EventStore extends AutoCloseable {

  /** The largest payload accepted, in bytes. */
  int maxPayloadBytes();

  /** Publishes one event in a transaction of its own; returns its sequence number. */
  long publish(String publisher, String topic, String key, byte[] payload);

  /**
   * Publishes one event inside the caller's transaction on {@code transaction} (same database): the
   * event commits or rolls back with the caller's own changes. Returns the sequence number it will
   * have if the transaction commits. From this call until the commit, other publishers wait: call
   * it as late as possible in the transaction.
   */
  long publish(Connection transaction, String publisher, String topic, String key, byte[] payload);

  /**
   * Up to {@code limit} events with a sequence above {@code afterSeq}, in sequence order, skipping
   * no number that a later read could still return.
   */
  List<Event> read(long afterSeq, int limit);

  /** The sequence of the newest committed event (0 for an empty log). */
  long head();

  /** Records that {@code member} has delivered everything up to {@code deliveredSeq}. */
  void savePosition(String member, long deliveredSeq);

  /** The position {@code member} saved last, if any. */
  OptionalLong position(String member);

  /** Every member's saved position, with the head, for status and lag. */
  List<ConsumerPosition> positions();

  /**
   * Deletes events older than {@code maxAge} (by the database's clock) and all but the newest
   * {@code maxEvents}, as a prefix of the log: every event up to a new {@link #purgedThrough
   * watermark}, recorded in the same transaction. Never the newest event, so that the head is
   * always readable. Saved positions are never deleted: a reader that has not moved for a long time
   * (a quiet log) must resume where it was, not at the head. Returns the number of events deleted.
   */
  int purge(Duration maxAge, long maxEvents);

  /**
   * The purge watermark: the highest sequence number retention has deleted through (0 if none).
   * Every event at or below it is gone for good; a number missing above it has not been purged. It
   * only grows, and never reaches a number that has not committed.
   */
  long purgedThrough();

  /** True if {@link #listen} pushes wake-ups; false if readers must poll. */
  boolean pushesWakeups();

  /**
   * Calls {@code onWake} soon after any event commits (a hint: it may come late, twice, or not at
   * all when the link fails; it is also called after reconnecting, in case one was lost). Runs
   * until the returned handle is closed. Only for stores that {@link #pushesWakeups()}.
   *
   * @param checkInterval how often the idle listening connection is checked to be alive
   */
  AutoCloseable listen(Runnable onWake, Duration checkInterval);

  /** Releases what the store owns (its pool, if it has its own). */
  @Override
  default void close() {}
}
