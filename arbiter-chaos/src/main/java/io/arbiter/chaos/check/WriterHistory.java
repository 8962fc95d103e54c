package io.arbiter.chaos.check;

import io.arbiter.chaos.MasterHistory;
import io.arbiter.chaos.MasterHistory.Event;
import io.arbiter.chaos.RunHistory;
import io.arbiter.chaos.Tick;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds, in the writing master's own history, the lines behind one accepted write: the act that
 * made it and the fence that followed. One thread per service writes in order and records each act
 * after its commit, so the k-th accepted write of a grant is the k-th "ok" act of that grant.
 */
final class WriterHistory {
  private WriterHistory() {}

  /** The writer's history lines for {@code tick}, one of {@code serviceTicks} (in id order). */
  static List<String> linesOf(RunHistory h, Tick tick, List<Tick> serviceTicks) {
    long k =
        serviceTicks.stream()
            .filter(
                t ->
                    t.id() < tick.id()
                        && t.token() == tick.token()
                        && t.writer().equals(tick.writer()))
            .count();
    for (MasterHistory m : h.masters()) {
      if (!m.member().equals(tick.member())) {
        continue;
      }
      for (MasterHistory.Segment s : m.segments()) {
        List<String> lines = find(m, s, tick, k);
        if (!lines.isEmpty()) {
          return lines;
        }
      }
    }
    return List.of();
  }

  private static List<String> find(MasterHistory m, MasterHistory.Segment s, Tick tick, long k) {
    List<String> lines = new ArrayList<>();
    long seen = 0;
    for (Event e : s.events()) {
      if (lines.isEmpty()) {
        if (e.isAct()
            && "ok".equals(e.outcome())
            && tick.service().equals(e.service())
            && e.incarnation() == tick.incarnation()
            && e.token() == tick.token()
            && seen++ == k) {
          lines.add("its act:   " + m.file() + ":" + e.line() + " " + e.raw());
        }
      } else if ("fence".equals(e.type()) && e.incarnation() == tick.incarnation()) {
        lines.add("its fence: " + m.file() + ":" + e.line() + " " + e.raw());
        break;
      }
    }
    return lines;
  }
}
