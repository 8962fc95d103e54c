package io.arbiter.chaos.check;

import io.arbiter.chaos.RunHistory;
import io.arbiter.chaos.Tick;
import io.arbiter.examples.buildfarm.TickHistory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * At most one owner acts: read from the writes the database accepted. A fenced write with token t
 * commits before grant t+1 exists, and ids are assigned at insert, so for each service:
 *
 * <ul>
 *   <li>in id order, tokens never go down (a lower one is a stale write that got through);
 *   <li>each token belongs to one master incarnation;
 *   <li>on the database clock, the writes of one grant all come before the first write of the next
 *       (two owners' writes never interleave in time).
 * </ul>
 *
 * The same table is also read by SQL ({@link TickHistory#violations}); a service that query flags
 * and this one does not is reported too, so neither reading can hide a violation.
 */
public final class SafetyChecker implements Checker {
  private static final int EXCERPT_TICKS = 3;

  @Override
  public String name() {
    return "safety";
  }

  @Override
  public CheckResult check(RunHistory history) {
    Map<String, List<Tick>> byService = new TreeMap<>();
    for (Tick t : history.ticks()) {
      byService.computeIfAbsent(t.service(), s -> new ArrayList<>()).add(t);
    }
    List<Violation> found = new ArrayList<>();
    Set<String> flagged = new HashSet<>();
    for (Map.Entry<String, List<Tick>> e : byService.entrySet()) {
      int before = found.size();
      Set<Long> staleTokens = new HashSet<>();
      found.addAll(backwards(e.getValue(), history, staleTokens));
      found.addAll(sharedTokens(e.getValue(), history));
      found.addAll(interleaved(e.getValue(), history, staleTokens));
      if (found.size() > before) {
        flagged.add(e.getKey());
      }
    }
    for (TickHistory.Violation v : history.databaseViolations()) {
      if (!flagged.contains(v.service())) {
        found.add(
            new Violation(
                name(),
                v.service() + ": " + v.description() + " (found by the SQL check only)",
                List.of("see " + TickHistory.TABLE + " for service " + v.service())));
      }
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("accepted_writes", history.ticks().size());
    return new CheckResult(name(), found, figures);
  }

  /** Ticks whose token is below one accepted earlier, grouped by the stale grant. */
  private List<Violation> backwards(List<Tick> ticks, RunHistory h, Set<Long> staleTokens) {
    Map<Long, List<Tick>> staleByToken = new LinkedHashMap<>();
    Map<Long, Tick> newerBefore = new LinkedHashMap<>();
    Tick newest = null;
    for (Tick t : ticks) {
      if (newest != null && t.token() < newest.token()) {
        staleByToken.computeIfAbsent(t.token(), k -> new ArrayList<>()).add(t);
        newerBefore.putIfAbsent(t.token(), newest);
      } else if (newest == null || t.token() > newest.token()) {
        newest = t;
      }
    }
    List<Violation> out = new ArrayList<>();
    staleByToken.forEach(
        (token, stale) -> {
          staleTokens.add(token);
          Tick newer = newerBefore.get(token);
          Tick first = stale.get(0);
          List<String> excerpt = new ArrayList<>();
          excerpt.add("accepted first: " + newer);
          stale.stream().limit(EXCERPT_TICKS).forEach(t -> excerpt.add("then accepted: " + t));
          if (stale.size() > EXCERPT_TICKS) {
            excerpt.add("... and " + (stale.size() - EXCERPT_TICKS) + " more with token " + token);
          }
          excerpt.add("(" + h.faultsDuring(newer.writtenAtMillis(), first.writtenAtMillis()) + ")");
          excerpt.addAll(WriterHistory.linesOf(h, first, ticks));
          out.add(
              new Violation(
                  name(),
                  String.format(
                      "%s: %d write(s) of %s with stale token %d accepted after token %d of %s",
                      first.service(),
                      stale.size(),
                      first.writer(),
                      token,
                      newer.token(),
                      newer.writer()),
                  excerpt));
        });
    return out;
  }

  /** Tokens written by more than one master incarnation. */
  private List<Violation> sharedTokens(List<Tick> ticks, RunHistory h) {
    Map<Long, Map<String, Tick>> writersByToken = new TreeMap<>();
    for (Tick t : ticks) {
      writersByToken
          .computeIfAbsent(t.token(), k -> new LinkedHashMap<>())
          .putIfAbsent(t.writer(), t);
    }
    List<Violation> out = new ArrayList<>();
    writersByToken.forEach(
        (token, writers) -> {
          if (writers.size() > 1) {
            List<String> excerpt = new ArrayList<>();
            writers.values().forEach(t -> excerpt.add("first write of " + t.writer() + ": " + t));
            Tick first = writers.values().iterator().next();
            excerpt.add("(" + h.faultsAt(first.writtenAtMillis()) + ")");
            writers.values().forEach(t -> excerpt.addAll(WriterHistory.linesOf(h, t, ticks)));
            out.add(
                new Violation(
                    name(),
                    first.service() + ": token " + token + " used by " + writers.keySet(),
                    excerpt));
          }
        });
    return out;
  }

  private static List<String> excerpt(List<String> head, List<String> tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(tail);
    return all;
  }

  /** A grant still writing (by the database clock) after the next grant's first write. */
  private List<Violation> interleaved(List<Tick> ticks, RunHistory h, Set<Long> staleTokens) {
    TreeMap<Long, Tick> firstOf = new TreeMap<>();
    TreeMap<Long, Tick> lastOf = new TreeMap<>();
    for (Tick t : ticks) {
      firstOf.merge(t.token(), t, (a, b) -> b.writtenAtMillis() < a.writtenAtMillis() ? b : a);
      lastOf.merge(t.token(), t, (a, b) -> b.writtenAtMillis() > a.writtenAtMillis() ? b : a);
    }
    List<Violation> out = new ArrayList<>();
    for (Map.Entry<Long, Tick> e : lastOf.entrySet()) {
      Map.Entry<Long, Tick> next = firstOf.higherEntry(e.getKey());
      if (next == null || staleTokens.contains(e.getKey())) {
        continue; // already reported as a stale write
      }
      Tick last = e.getValue();
      Tick nextFirst = next.getValue();
      if (last.writtenAtMillis() > nextFirst.writtenAtMillis()) {
        out.add(
            new Violation(
                name(),
                String.format(
                    "%s: %s (token %d) was still writing %d ms after %s (token %d) began",
                    last.service(),
                    last.writer(),
                    last.token(),
                    last.writtenAtMillis() - nextFirst.writtenAtMillis(),
                    nextFirst.writer(),
                    nextFirst.token()),
                excerpt(
                    List.of(
                        "first of the next grant: " + nextFirst,
                        "last of the older grant: " + last,
                        "(" + h.faultsAt(nextFirst.writtenAtMillis()) + ")"),
                    WriterHistory.linesOf(h, last, ticks))));
      }
    }
    return out;
  }
}
