package io.arbiter.chaos.check;

import io.arbiter.chaos.FaultKind;
import io.arbiter.chaos.FinalState;
import io.arbiter.chaos.InjectedFault;
import io.arbiter.chaos.RunHistory;
import io.arbiter.chaos.Tick;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Services keep running: read from the accepted writes, all on the database's clock.
 *
 * <ul>
 *   <li><b>At the end</b> (a violation if not): after the last fault is healed, every service is
 *       owned by a live master and writes within lease TTL + 1 s, and is still writing when the run
 *       is observed.
 *   <li><b>Longest gap</b>: the longest time between two consecutive accepted writes of one service
 *       (and from its last write to the end): how long it went without an owner doing its work.
 *   <li><b>Recovery per fault</b>: from the fault to the moment every service it could interrupt
 *       has an accepted write again, either from a newer grant (it moved) or made after the heal
 *       (it stayed). A database restart is counted from the moment the database is back, since no
 *       master can do anything before; a clock step from its start, since it should interrupt
 *       nothing.
 * </ul>
 */
public final class LivenessChecker implements Checker {
  /** The bound: owned again within the lease TTL plus this. */
  public static final long GRACE_MILLIS = 1_000;

  @Override
  public String name() {
    return "liveness";
  }

  @Override
  public CheckResult check(RunHistory history) {
    Map<String, List<Tick>> byService = new LinkedHashMap<>();
    history.services().forEach(s -> byService.put(s, new ArrayList<>()));
    long until = history.end().observedAtMillis();
    for (Tick t : history.ticks()) {
      if (t.writtenAtMillis() <= until && byService.containsKey(t.service())) {
        byService.get(t.service()).add(t);
      }
    }
    byService.values().forEach(l -> l.sort(Comparator.comparingLong(Tick::writtenAtMillis)));

    Map<String, Object> figures = new LinkedHashMap<>();
    longestGap(byService, history, figures);
    recoveries(byService, history, figures);
    List<Violation> found = atTheEnd(byService, history);
    return new CheckResult(name(), found, figures);
  }

  private void longestGap(
      Map<String, List<Tick>> byService, RunHistory h, Map<String, Object> figures) {
    long longest = 0;
    String where = null;
    long until = h.end().observedAtMillis();
    for (Map.Entry<String, List<Tick>> e : byService.entrySet()) {
      List<Tick> ticks = e.getValue();
      for (int i = 0; i < ticks.size(); i++) {
        long from = ticks.get(i).writtenAtMillis();
        long to = i + 1 < ticks.size() ? ticks.get(i + 1).writtenAtMillis() : until;
        if (to - from > longest) {
          longest = to - from;
          where =
              e.getKey() + " from " + Instant.ofEpochMilli(from) + ", " + h.faultsDuring(from, to);
        }
      }
    }
    figures.put("max_unowned_ms", longest);
    figures.put("max_unowned_at", where);
  }

  private void recoveries(
      Map<String, List<Tick>> byService, RunHistory h, Map<String, Object> figures) {
    Map<FaultKind, List<Long>> byKind = new EnumMap<>(FaultKind.class);
    List<Long> all = new ArrayList<>();
    List<String> unrecovered = new ArrayList<>();
    for (InjectedFault f : h.faults()) {
      if (!f.injected() || f.affectedTokens().isEmpty()) {
        continue; // a fault on a master that owned nothing interrupts nothing
      }
      // The database down or read-only: no master can do anything before it is back.
      boolean database = f.kind() == FaultKind.DBRESTART || f.kind() == FaultKind.READONLY;
      long from = database ? f.healMillis() : f.startMillis();
      // A clock step and lost acknowledgements should interrupt nothing: every write counts.
      boolean harmless = f.kind() == FaultKind.CLOCK || f.kind() == FaultKind.LOSTACK;
      // A failover is over once the replica is promoted, right at its start (the heal only gives
      // the new primary a replica): a write on the new primary counts, under any grant.
      long stayedIfAfter =
          harmless || f.kind() == FaultKind.FAILOVER ? f.startMillis() : f.healMillis();
      long recovered = from;
      for (Map.Entry<String, Long> a : f.affectedTokens().entrySet()) {
        Tick t =
            firstResumed(
                byService.getOrDefault(a.getKey(), List.of()), a.getValue(), from, stayedIfAfter);
        if (t == null) {
          unrecovered.add(f.label() + ": " + a.getKey());
          recovered = -1;
          break;
        }
        recovered = Math.max(recovered, t.writtenAtMillis());
      }
      if (recovered >= 0) {
        byKind.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(recovered - from);
        all.add(recovered - from);
      }
    }
    figures.put("recovery_p50_ms", Percentiles.of(all, 50));
    figures.put("recovery_p99_ms", Percentiles.of(all, 99));
    figures.put("recovery_max_ms", Percentiles.of(all, 100));
    Map<String, Object> perKind = new LinkedHashMap<>();
    byKind.forEach(
        (kind, sample) -> {
          Map<String, Object> k = new LinkedHashMap<>();
          k.put("samples", sample.size());
          k.put("p50_ms", Percentiles.of(sample, 50));
          k.put("p99_ms", Percentiles.of(sample, 99));
          k.put("max_ms", Percentiles.of(sample, 100));
          perKind.put(kind.label(), k);
        });
    figures.put("recovery_by_kind", perKind);
    figures.put("unrecovered", unrecovered);
  }

  /** The first write at or after {@code from} from a newer grant, or made after the heal. */
  private static Tick firstResumed(List<Tick> ticks, long oldToken, long from, long stayedIfAfter) {
    for (Tick t : ticks) {
      if (t.writtenAtMillis() >= from
          && (t.token() > oldToken || t.writtenAtMillis() >= stayedIfAfter)) {
        return t;
      }
    }
    return null;
  }

  private List<Violation> atTheEnd(Map<String, List<Tick>> byService, RunHistory h) {
    FinalState end = h.end();
    // A start callback under way at the heal may take its whole drawn delay first.
    long bound = h.leaseTtlMillis() + GRACE_MILLIS + h.callbackDelayMaxMillis();
    List<Violation> found = new ArrayList<>();
    for (Map.Entry<String, List<Tick>> e : byService.entrySet()) {
      String service = e.getKey();
      List<Tick> ticks = e.getValue();
      Tick last = ticks.isEmpty() ? null : ticks.get(ticks.size() - 1);
      Tick firstAfterHeal =
          ticks.stream()
              .filter(t -> t.writtenAtMillis() >= end.healedAtMillis())
              .findFirst()
              .orElse(null);
      String lastSeen = "last accepted write: " + (last == null ? "none" : last);
      String healed = "all faults healed at " + Instant.ofEpochMilli(end.healedAtMillis());
      if (!end.ownedByLiveMember().contains(service)) {
        found.add(
            new Violation(
                name(),
                service + " had no live owner at the end of the run",
                List.of(healed, lastSeen)));
      }
      if (firstAfterHeal == null
          || firstAfterHeal.writtenAtMillis() - end.healedAtMillis() > bound) {
        found.add(
            new Violation(
                name(),
                String.format(
                    "%s did not write within lease TTL + 1 s%s (%d ms) of the final heal",
                    service,
                    h.callbackDelayMaxMillis() > 0 ? " + the longest callback delay" : "",
                    bound),
                List.of(
                    healed,
                    "first write after it: " + (firstAfterHeal == null ? "none" : firstAfterHeal),
                    lastSeen)));
      } else if (end.observedAtMillis() - last.writtenAtMillis() > bound) {
        found.add(
            new Violation(
                name(),
                String.format(
                    "%s stopped writing: nothing in the last %d ms of the run",
                    service, end.observedAtMillis() - last.writtenAtMillis()),
                List.of(healed, lastSeen)));
      }
    }
    return found;
  }
}
