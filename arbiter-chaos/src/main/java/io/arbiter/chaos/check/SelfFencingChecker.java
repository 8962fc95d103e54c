package io.arbiter.chaos.check;

import io.arbiter.chaos.MasterHistory;
import io.arbiter.chaos.MasterHistory.Event;
import io.arbiter.chaos.MasterHistory.Segment;
import io.arbiter.chaos.RunHistory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A master never acts after its own lease deadline, read from its own history. The database stamped
 * each lease at or after the moment the master sent the join or renewal, so on the master's
 * monotonic clock its lease surely lasts until {@code sent + ttl}; it promises to stop {@code
 * selfFenceMargin} before that. For every attempt to act that went ahead (any outcome but
 * "skipped"), decided at {@code nanos} by incarnation i, the deadline is
 *
 * <pre>D = max over join/renew of i with sent_nanos <= nanos of sent_nanos + (ttl - margin)</pre>
 *
 * and {@code nanos < D} must hold. The database's fence makes a late write harmless; this check
 * shows that the master's own guard works too, which is what keeps a master that is merely slow
 * from doing work whose result will be thrown away, and what protects writes that are not fenced.
 */
public final class SelfFencingChecker implements Checker {
  private static final int EXCERPT_ACTS = 3;

  @Override
  public String name() {
    return "self-fencing";
  }

  @Override
  public CheckResult check(RunHistory history) {
    List<Violation> found = new ArrayList<>();
    long checked = 0;
    long unreadable = 0;
    Map<String, Long> outcomes = new TreeMap<>();
    for (MasterHistory master : history.masters()) {
      unreadable += master.unreadableLines();
      master.actsByOutcome().forEach((k, v) -> outcomes.merge(k, v, Long::sum));
      for (Segment segment : master.segments()) {
        checked += check(master, segment, found);
      }
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("acts", outcomes.values().stream().mapToLong(Long::longValue).sum());
    figures.put("acts_by_outcome", outcomes);
    figures.put("acts_checked", checked);
    figures.put("history_lines_unreadable", unreadable);
    return new CheckResult(name(), found, figures);
  }

  /** Checks one process's acts; returns how many it checked. */
  private long check(MasterHistory master, Segment segment, List<Violation> found) {
    long allowedNanos = (segment.leaseTtlMillis() - segment.selfFenceMarginMillis()) * 1_000_000L;
    Map<Long, TreeMap<Long, Event>> leaseSends = new LinkedHashMap<>();
    Map<Long, Event> firstFence = new LinkedHashMap<>();
    for (Event e : segment.events()) {
      if (e.isLease()) {
        leaseSends.computeIfAbsent(e.incarnation(), k -> new TreeMap<>()).put(e.sentNanos(), e);
      } else if ("fence".equals(e.type())) {
        firstFence.putIfAbsent(e.incarnation(), e);
      }
    }
    // Late acts grouped by the lease that should have stopped them: one violation per lapse.
    Map<String, List<Event>> late = new LinkedHashMap<>();
    Map<String, Event> basis = new LinkedHashMap<>();
    long checked = 0;
    for (Event act : segment.events()) {
      if (!act.actedForReal()) {
        continue;
      }
      checked++;
      TreeMap<Long, Event> sends = leaseSends.getOrDefault(act.incarnation(), new TreeMap<>());
      Map.Entry<Long, Event> lease = sends.floorEntry(act.nanos());
      if (lease == null) {
        String key = act.incarnation() + "/none";
        late.computeIfAbsent(key, k -> new ArrayList<>()).add(act);
        continue;
      }
      if (act.nanos() >= lease.getKey() + allowedNanos) {
        String key = act.incarnation() + "/" + lease.getKey();
        late.computeIfAbsent(key, k -> new ArrayList<>()).add(act);
        basis.putIfAbsent(key, lease.getValue());
      }
    }
    late.forEach(
        (key, acts) ->
            found.add(
                violation(
                    master,
                    acts,
                    basis.get(key),
                    firstFence.get(acts.get(0).incarnation()),
                    allowedNanos)));
    return checked;
  }

  private Violation violation(
      MasterHistory master, List<Event> acts, Event lease, Event fence, long allowedNanos) {
    Event first = acts.get(0);
    String who = master.member() + "#" + first.incarnation();
    String summary;
    if (lease == null) {
      summary =
          String.format(
              "%s acted %d time(s) with no join or renewal of that incarnation sent before",
              who, acts.size());
    } else {
      long lateMillis = (first.nanos() - (lease.sentNanos() + allowedNanos)) / 1_000_000;
      summary =
          String.format(
              "%s acted %d time(s) after its lease deadline, the first %d ms late (deadline: %s"
                  + " sent at %d + %d ms)",
              who,
              acts.size(),
              lateMillis,
              lease.type(),
              lease.sentNanos(),
              allowedNanos / 1_000_000);
    }
    // The lines that show it, in file order: the last lease, the fence if any, the late acts.
    List<Event> shown = new ArrayList<>(acts.subList(0, Math.min(EXCERPT_ACTS, acts.size())));
    if (lease != null) {
      shown.add(lease);
    }
    if (fence != null) {
      shown.add(fence);
    }
    shown.sort(java.util.Comparator.comparingInt(Event::line));
    List<String> excerpt = new ArrayList<>();
    shown.forEach(e -> excerpt.add(master.file() + ":" + e.line() + " " + e.raw()));
    if (acts.size() > EXCERPT_ACTS) {
      excerpt.add("... and " + (acts.size() - EXCERPT_ACTS) + " more late acts of " + who);
    }
    return new Violation(name(), summary, excerpt);
  }
}
