package io.arbiter.chaos;

import io.arbiter.examples.buildfarm.TickHistory;
import io.arbiter.testkit.FaultProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Hand-made run histories for the checker tests. Times are milliseconds on the database clock. */
public final class Histories {
  public static final long TTL = 3_000;

  private final List<String> services = new ArrayList<>();
  private final List<Tick> ticks = new ArrayList<>();
  private final List<TickHistory.Violation> sqlViolations = new ArrayList<>();
  private final List<MasterHistory> masters = new ArrayList<>();
  private final List<InjectedFault> faults = new ArrayList<>();
  private FinalState end;
  private long callbackTimeout = ChaosOptions.DEFAULT_CALLBACK_TIMEOUT.toMillis();
  private final List<OwnerSnapshot> ownership = new ArrayList<>();

  public Histories services(String... names) {
    services.addAll(List.of(names));
    return this;
  }

  /** An accepted write; ids follow the order of the calls. */
  public Histories tick(String service, long token, String writer, long atMillis) {
    String[] w = writer.split("#");
    ticks.add(new Tick(ticks.size() + 1, service, token, w[0], Long.parseLong(w[1]), atMillis));
    return this;
  }

  /** {@code service} written by {@code writer} every 150 ms from {@code from} to {@code to}. */
  public Histories ticking(String service, long token, String writer, long from, long to) {
    for (long t = from; t <= to; t += 150) {
      tick(service, token, writer, t);
    }
    return this;
  }

  public Histories sqlViolation(String service, String description) {
    sqlViolations.add(new TickHistory.Violation(service, description));
    return this;
  }

  public Histories master(String member, String... jsonLines) {
    masters.add(MasterHistory.parse(member, member + ".jsonl", List.of(jsonLines)));
    return this;
  }

  public Histories fault(
      FaultKind kind, String target, long start, long heal, Map<String, Long> affected) {
    Fault f =
        new Fault(
            faults.size() + 1,
            kind,
            kind.targetsMaster() ? FaultTarget.busiest() : FaultTarget.database(),
            Duration.ofMillis(heal - start),
            Duration.ofMillis(500),
            kind == FaultKind.LINK ? FaultProxy.Mode.BLACKHOLE : null,
            Duration.ZERO);
    faults.add(new InjectedFault(f, target, start, heal, affected, null));
    return this;
  }

  public Histories end(long healedAt, long observedAt, String... ownedByLiveMember) {
    end = new FinalState(healedAt, observedAt, Set.of(ownedByLiveMember));
    return this;
  }

  public Histories callbackTimeout(long millis) {
    callbackTimeout = millis;
    return this;
  }

  /**
   * A snapshot at {@code atMillis} (database and local clock alike) in which each of {@code owned}
   * ("service@token member#incarnation granted-at-millis") is held by a live incarnation.
   */
  public Histories owners(long atMillis, String... owned) {
    List<OwnerSnapshot.Owned> list = new ArrayList<>();
    for (String o : owned) {
      String[] parts = o.split("[@ #]");
      list.add(
          new OwnerSnapshot.Owned(
              parts[0],
              parts[2],
              Long.parseLong(parts[3]),
              Long.parseLong(parts[1]),
              Long.parseLong(parts[4])));
    }
    ownership.add(new OwnerSnapshot(atMillis, atMillis, list));
    return this;
  }

  public RunHistory build() {
    if (end == null) {
      long last = ticks.stream().mapToLong(Tick::writtenAtMillis).max().orElse(0);
      end = new FinalState(last, last, Set.copyOf(services));
    }
    return new RunHistory(
        TTL, services, ticks, sqlViolations, masters, faults, end, callbackTimeout, 0, ownership);
  }

  /** A "start" line of a master's history, with a 3 s lease and a 500 ms margin. */
  public static String start(String member, long pid) {
    return String.format(
        "{\"type\":\"start\",\"member\":\"%s\",\"pid\":%d,\"lease_ttl_ms\":3000,"
            + "\"self_fence_margin_ms\":500,\"nanos\":0,\"wall_ms\":0}",
        member, pid);
  }

  public static String lease(String type, String member, long incarnation, long sentMillis) {
    return String.format(
        "{\"type\":\"%s\",\"member\":\"%s\",\"incarnation\":%d,\"sent_nanos\":%d,"
            + "\"nanos\":%d,\"wall_ms\":0}",
        type, member, incarnation, sentMillis * 1_000_000, (sentMillis + 2) * 1_000_000);
  }

  public static String fence(String member, long incarnation, long atMillis) {
    return String.format(
        "{\"type\":\"fence\",\"member\":\"%s\",\"incarnation\":%d,\"nanos\":%d,\"wall_ms\":0,"
            + "\"reason\":\"lease ran out on the local clock\"}",
        member, incarnation, atMillis * 1_000_000);
  }

  /** A callback line ("starting", "started", ...) written at {@code wallMillis}. */
  public static String callback(
      String type, String member, long incarnation, String service, long token, long wallMillis) {
    return String.format(
        "{\"type\":\"%s\",\"member\":\"%s\",\"nanos\":0,\"wall_ms\":%d,\"service\":\"%s\","
            + "\"incarnation\":%d,\"token\":%d}",
        type, member, wallMillis, service, incarnation, token);
  }

  public static String act(
      String member, long incarnation, long token, long atMillis, String outcome) {
    return String.format(
        "{\"type\":\"act\",\"service\":\"s1\",\"member\":\"%s\",\"incarnation\":%d,"
            + "\"token\":%d,\"nanos\":%d,\"wall_ms\":0,\"outcome\":\"%s\"}",
        member, incarnation, token, atMillis * 1_000_000, outcome);
  }
}
