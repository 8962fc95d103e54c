package io.arbiter.chaos;

import io.arbiter.testkit.FaultProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

/**
 * The faults of a run, drawn one after another from a seeded {@link Random}: the same seed, fault
 * kinds, number of masters and lease TTL give the same sequence of kinds, targets and durations
 * (java.util.Random's algorithm is fixed by its specification, so this holds across JVMs). How many
 * of them a run gets through depends on how fast the cluster recovers, so a run records the ones it
 * injected.
 */
public final class FaultSchedule {
  private final Random random;
  private final List<FaultKind> kinds;
  private final int masters;
  private final long ttlMillis;
  private int next = 1;

  public FaultSchedule(long seed, Collection<FaultKind> kinds, int masters, Duration leaseTtl) {
    if (kinds.isEmpty()) {
      throw new IllegalArgumentException("no fault kinds to draw from");
    }
    this.random = new Random(seed);
    this.kinds = List.copyOf(EnumSet.copyOf(kinds)); // enum order, whatever order they came in
    this.masters = masters;
    this.ttlMillis = leaseTtl.toMillis();
  }

  public Fault next() {
    FaultKind kind = kinds.get(random.nextInt(kinds.size()));
    FaultTarget target = kind.targetsMaster() ? drawTarget() : FaultTarget.database();
    FaultProxy.Mode linkMode = null;
    long shift = 0;
    int lostCommits = 0;
    int moves = 0;
    long duration;
    switch (kind) {
      case KILL -> duration = between(500, 2_500);
      case PAUSE -> duration = ttlMillis + between(500, 3_000); // long enough to lose the lease
      case LINK -> {
        linkMode = random.nextBoolean() ? FaultProxy.Mode.BLACKHOLE : FaultProxy.Mode.RESET;
        // From shorter than a renewal interval (nothing should move) to well past the lease.
        duration = between(500, ttlMillis + 3_000);
      }
      case DBRESTART -> duration = between(500, 3_000);
      case READONLY -> duration = between(1_000, ttlMillis + 3_000);
        // Held past the recovery (a lease and a little), so that the replica's rebuild at the heal,
        // a restart of the new primary, does not land inside it.
      case FAILOVER -> duration = between(ttlMillis + 2_000, ttlMillis + 4_000);
      case LOSTACK -> {
        // Half the time a few commits (mostly the services' fenced writes), half the time every
        // write commit in the window, so that the claims of the services moved onto the target
        // lose theirs too. Windows longer than the lease's renewal margin make it self-fence.
        lostCommits = random.nextBoolean() ? 1 + random.nextInt(3) : Integer.MAX_VALUE;
        moves = 1 + random.nextInt(2);
        duration = between(500, ttlMillis + 1_000);
      }
      case CLOCK -> {
        if (random.nextBoolean()) {
          // A step back while renewals cannot get through: harmless for a lease measured on the
          // monotonic clock, but a wall-clock lease then believes it has seconds left that it
          // does not have.
          linkMode = FaultProxy.Mode.BLACKHOLE;
          shift = -between(ttlMillis + 1_000, ttlMillis + 8_000);
          duration = ttlMillis + between(500, 2_000);
        } else {
          shift = between(1_000, 10_000) * (random.nextBoolean() ? 1 : -1);
          duration = between(1_000, 4_000);
        }
      }
      default -> throw new IllegalStateException("unknown fault kind " + kind);
    }
    return new Fault(
        next++,
        kind,
        target,
        Duration.ofMillis(duration),
        Duration.ofMillis(between(500, 2_000)),
        linkMode,
        Duration.ofMillis(shift),
        lostCommits,
        moves);
  }

  /** The next {@code n} faults. */
  public List<Fault> next(int n) {
    List<Fault> faults = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      faults.add(next());
    }
    return faults;
  }

  private FaultTarget drawTarget() {
    // Two faults in three hit the busiest master, so that most of them move services.
    if (random.nextInt(3) < 2) {
      return FaultTarget.busiest();
    }
    return FaultTarget.master(1 + random.nextInt(masters));
  }

  /** A whole number of 100 ms in [from, to], so that durations read well. */
  private long between(long fromMillis, long toMillis) {
    long steps = (toMillis - fromMillis) / 100;
    return fromMillis + 100L * random.nextInt((int) steps + 1);
  }
}
