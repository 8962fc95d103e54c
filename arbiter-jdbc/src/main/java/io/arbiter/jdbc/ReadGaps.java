package io.arbiter.jdbc;

import io.arbiter.events.Event;
import java.util.Arrays;
import java.util.List;

/**
 * What a read of the event log may return when the numbers it got are not dense.
 *
 * <p>Publishers commit their numbers in order (see {@link JdbcEventStore}), so a missing number
 * means one of two things. Either retention purged it, and it is gone for good; or it committed
 * while the read's snapshot was being taken, and a newer snapshot shows it. The second happens on
 * MariaDB: InnoDB builds a read view by walking its table of active transactions without stopping
 * them, so a view can miss a transaction that committed during the walk while it shows a later one
 * that waited for it (seen in CI, and once in 60 rounds of a 1,200-event stress run). A reader that
 * took such a gap for a purge would skip the event for good.
 *
 * <p>So a read that finds a gap reads again, and a gap counts only if both reads show it: a number
 * the first read lacked although it returned a later one, and that the second read lacks too. The
 * second read is cut at its first gap that the first read does not confirm; the part before it is
 * dense or confirmed, and the rest comes with the next read.
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
   * The events of {@code again} up to (not including) its first gap that {@code first} does not
   * confirm. Both reads start after {@code afterSeq}; {@code again} was read after {@code first}.
   */
  static List<Event> confirmedPrefix(long afterSeq, List<Event> first, List<Event> again) {
    long[] firstSeqs = first.stream().mapToLong(Event::seq).toArray();
    long previous = afterSeq;
    for (int i = 0; i < again.size(); i++) {
      long seq = again.get(i).seq();
      if (seq != previous + 1 && !confirmsMissing(firstSeqs, previous + 1, seq - 1)) {
        return List.copyOf(again.subList(0, i));
      }
      previous = seq;
    }
    return again;
  }

  /** True if the first read lacked every number from {@code from} to {@code to}, and went past. */
  private static boolean confirmsMissing(long[] firstSeqs, long from, long to) {
    if (firstSeqs.length == 0 || firstSeqs[firstSeqs.length - 1] <= to) {
      return false; // the first read stopped before the gap's end: it says nothing about it
    }
    int i = Arrays.binarySearch(firstSeqs, from);
    return i < 0 && firstSeqs[-i - 1] > to; // from is absent, and so is everything up to to
  }
}
