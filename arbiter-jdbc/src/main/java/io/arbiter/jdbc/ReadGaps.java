package io.arbiter.jdbc;

import io.arbiter.events.Event;
import java.util.List;

/**
 * What a read of the event log may return when the numbers it got are not dense.
 *
 * <p>Publishers commit their numbers in order and without holes (see {@link JdbcEventStore}), so a
 * missing number means one of two things. Either retention purged it, and it is gone for good; or
 * it is not visible to this read yet. The second happens on MariaDB: InnoDB builds a read view by
 * walking its table of active transactions without stopping them, so a view can miss a transaction
 * that committed during the walk while it shows a later one that waited for it (seen in CI, and
 * once in 60 rounds of a 1,200-event stress run). A reader that took such a gap for a purge would
 * skip the event for good.
 *
 * <p>The purge watermark ({@code arbiter_event_purged}) tells the two apart exactly: a purge
 * deletes every number up to the watermark and moves the watermark in the same transaction, and the
 * watermark never passes a number that has not committed. So a missing number at or below the
 * watermark is purged (pass it over: the reader reports it lost if it had not read it), and one
 * above it is not visible yet (stop before it and read it later; never skip it). Earlier versions
 * trusted a gap that two reads in a row agreed on; that is a guess, the watermark is a fact.
 */
final class ReadGaps {
  private ReadGaps() {}

  /** True if {@code events}, read after {@code afterSeq}, skip a number. */
  static boolean hasGap(long afterSeq, List<Event> events) {
    long expected = afterSeq + 1;
    for (Event e : events) {
      if (e.seq() != expected) {
        return true;
      }
      expected++;
    }
    return false;
  }

  /**
   * The events of {@code events} (read after {@code afterSeq}) that can be passed on: up to, not
   * including, the first one preceded by a missing number above {@code purgedThrough}.
   */
  static List<Event> purgedGapsOnly(long afterSeq, List<Event> events, long purgedThrough) {
    int cut = firstUnpurgedGap(afterSeq, events, purgedThrough);
    return cut < 0 ? events : List.copyOf(events.subList(0, cut));
  }

  /**
   * The lowest number missing from {@code events} (read after {@code afterSeq}) that is not purged,
   * or -1 if every missing number is at or below {@code purgedThrough}.
   */
  static long firstUnseen(long afterSeq, List<Event> events, long purgedThrough) {
    int cut = firstUnpurgedGap(afterSeq, events, purgedThrough);
    if (cut < 0) {
      return -1;
    }
    long previous = cut == 0 ? afterSeq : events.get(cut - 1).seq();
    return Math.max(previous + 1, purgedThrough + 1);
  }

  /** The index of the first event preceded by a missing number above the watermark, or -1. */
  private static int firstUnpurgedGap(long afterSeq, List<Event> events, long purgedThrough) {
    long previous = afterSeq;
    for (int i = 0; i < events.size(); i++) {
      long seq = events.get(i).seq();
      if (seq != previous + 1 && seq - 1 > purgedThrough) {
        return i; // previous + 1 .. seq - 1 is missing, and not all of it was purged
      }
      previous = seq;
    }
    return -1;
  }
}
