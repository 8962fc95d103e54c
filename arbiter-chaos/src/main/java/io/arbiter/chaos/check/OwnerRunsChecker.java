package io.arbiter.chaos.check;

import io.arbiter.chaos.MasterHistory;
import io.arbiter.chaos.OwnerSnapshot;
import io.arbiter.chaos.RunHistory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Liveness, owner by owner: every service whose owner in the database is a live incarnation runs
 * there. Read from the run's ownership snapshots (after each fault's recovery, and at the end) and
 * from the masters' own callback lines ({@code starting}, {@code started}, {@code start_failed},
 * {@code stopping}, {@code stopped}).
 *
 * <p>At a snapshot, a service owned by incarnation <i>i</i> under token <i>t</i> runs if the last
 * callback line of <i>i</i> for <i>t</i> written by then is {@code started}. Otherwise it is not
 * running yet or any more, which is fine for a while: a start may be under way (up to the callback
 * timeout, or the longest drawn callback delay if that is longer), and a stopped service is
 * released at once unless its master lost its lease, which the database notices within one lease.
 * So it is a violation only once it has lasted longer than lease TTL + that callback time + {@value
 * #SLACK_MILLIS} ms: counted from the grant if the master never started the service (a claim whose
 * acknowledgement was lost) or is still starting it, else from its last callback line. This is what
 * a master must repair by itself: its own database row with nothing running behind it keeps every
 * other master away from the service, for good.
 */
public final class OwnerRunsChecker implements Checker {
  /** Scheduling and database round trips on top of the lease and the callback time. */
  public static final long SLACK_MILLIS = 1_000;

  @Override
  public String name() {
    return "owner-runs";
  }

  @Override
  public CheckResult check(RunHistory history) {
    long allowance =
        history.leaseTtlMillis()
            + Math.max(history.callbackTimeoutMillis(), history.callbackDelayMaxMillis())
            + SLACK_MILLIS;
    Map<String, List<Line>> callbacks = callbackLines(history);
    List<Violation> found = new ArrayList<>();
    Set<String> reported = new HashSet<>();
    int checked = 0;
    for (OwnerSnapshot snapshot : history.ownership()) {
      for (OwnerSnapshot.Owned o : snapshot.owned()) {
        checked++;
        String key = o.service() + "@" + o.token() + " " + o.member() + "#" + o.incarnation();
        List<Line> lines = callbacks.getOrDefault(key, List.of());
        Line last = null;
        for (Line l : lines) {
          if (l.event().wallMillis() <= snapshot.atLocalMillis()) {
            last = l;
          }
        }
        if (last != null && "started".equals(last.event().type())) {
          continue;
        }
        boolean fromGrant = last == null || "starting".equals(last.event().type());
        long notRunningFor =
            fromGrant
                ? snapshot.atDbMillis() - o.grantedAtMillis()
                : snapshot.atLocalMillis() - last.event().wallMillis();
        if (notRunningFor <= allowance || !reported.add(key)) {
          continue;
        }
        found.add(violation(history, snapshot, o, last, notRunningFor, allowance, lines));
      }
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("owner_snapshots", history.ownership().size());
    figures.put("owned_services_checked", checked);
    return new CheckResult(name(), found, figures);
  }

  private Violation violation(
      RunHistory h,
      OwnerSnapshot snapshot,
      OwnerSnapshot.Owned o,
      Line last,
      long notRunningFor,
      long allowance,
      List<Line> lines) {
    String state =
        last == null
            ? "its master never began to start it (no start callback for this token)"
            : "its last callback line there: " + last.event().type();
    List<String> excerpt = new ArrayList<>();
    excerpt.add(
        String.format(
            "owned by %s#%d with token %d, granted at %s (database clock); seen at %s, %s",
            o.member(),
            o.incarnation(),
            o.token(),
            Instant.ofEpochMilli(o.grantedAtMillis()),
            Instant.ofEpochMilli(snapshot.atDbMillis()),
            h.faultsAt(snapshot.atDbMillis())));
    lines.stream()
        .skip(Math.max(0, lines.size() - 4))
        .forEach(l -> excerpt.add(l.file() + ":" + l.event().line() + " " + l.event().raw()));
    return new Violation(
        name(),
        String.format(
            "%s is owned by the live %s#%d but has not run there for %d ms (allowed: %d ms): %s",
            o.service(), o.member(), o.incarnation(), notRunningFor, allowance, state),
        excerpt);
  }

  private record Line(String file, MasterHistory.Event event) {}

  /** Callback lines by "service@token member#incarnation", in file order. */
  private static Map<String, List<Line>> callbackLines(RunHistory h) {
    Map<String, List<Line>> byKey = new HashMap<>();
    for (MasterHistory m : h.masters()) {
      for (MasterHistory.Segment s : m.segments()) {
        for (MasterHistory.Event e : s.events()) {
          if (e.isCallback()) {
            String key = e.service() + "@" + e.token() + " " + m.member() + "#" + e.incarnation();
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(new Line(m.file(), e));
          }
        }
      }
    }
    return byKey;
  }
}
