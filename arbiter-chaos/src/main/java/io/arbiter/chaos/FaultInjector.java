package io.arbiter.chaos;

import io.arbiter.chaos.nemesis.Nemesis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs the schedule: one fault at a time, each held for its duration and then healed; then waits
 * until every service writes again (so that each fault's recovery is its own) and pauses before the
 * next. Stops drawing faults when the run's time is up.
 */
final class FaultInjector {
  private final ChaosCluster cluster;
  private final ChaosDatabase database;
  private final ClusterProbe probe;
  private final Map<FaultKind, Nemesis> nemeses;
  private final Duration recoveryTimeout;
  private final RunLog log;
  private final List<OwnerSnapshot> ownership = new ArrayList<>();

  FaultInjector(
      ChaosCluster cluster,
      ChaosDatabase database,
      ClusterProbe probe,
      Map<FaultKind, Nemesis> nemeses,
      Duration leaseTtl,
      RunLog log) {
    this.cluster = cluster;
    this.database = database;
    this.probe = probe;
    this.nemeses = nemeses;
    this.recoveryTimeout = leaseTtl.multipliedBy(3).plusSeconds(10);
    this.log = log;
  }

  List<InjectedFault> run(FaultSchedule schedule, Duration duration) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    List<InjectedFault> done = new ArrayList<>();
    while (System.nanoTime() - deadline < 0) {
      done.add(inject(schedule.next()));
    }
    return done;
  }

  private InjectedFault inject(Fault fault) throws InterruptedException {
    ChaosMaster target = null;
    String targetName = fault.target().isDatabase() ? "database" : fault.target().toString();
    Map<String, Long> affected;
    long fromId;
    try {
      if (fault.target().isBusiest()) {
        target = cluster.named(probe.busiest(cluster.names()));
      } else if (!fault.target().isDatabase()) {
        target = cluster.master(fault.target().master());
      }
      affected = target == null ? probe.tokensOfAll() : probe.tokensOwnedBy(target.name());
      targetName = target == null ? targetName : target.shortName();
      fromId = probe.maxTickId();
    } catch (Exception e) {
      return skipped(fault, targetName, "could not read the cluster before it: " + e);
    }
    long start = probe.estimatedDbMillis();
    Nemesis.Healing healing;
    try {
      healing = nemeses.get(fault.kind()).inject(fault, target);
    } catch (Exception e) {
      return skipped(fault, targetName, "could not inject it: " + e);
    }
    say(fault.describe(targetName) + ": " + affected.size() + " service(s) at stake");
    Thread.sleep(fault.duration().toMillis());
    try {
      healing.heal();
    } catch (Exception e) {
      say("  healing failed (" + e + "); healing everything");
      healEverything();
    }
    long healed = probe.estimatedDbMillis();
    boolean recovered = probe.awaitAllTicking(fromId, healed, recoveryTimeout);
    long after = probe.estimatedDbMillis() - healed;
    say(
        recovered
            ? "  healed; every service writing again " + after + " ms later"
            : "  healed; NOT every service writing again after " + after + " ms");
    snapshotOwnership();
    Thread.sleep(fault.pauseAfter().toMillis());
    return new InjectedFault(fault, targetName, start, healed, affected, null);
  }

  /** Who owns what now, for the owner-runs check; nothing if the database cannot say. */
  void snapshotOwnership() {
    try {
      ownership.add(probe.ownership());
    } catch (RuntimeException e) {
      say("  could not read who owns what: " + e);
    }
  }

  /** The ownership snapshots taken so far. */
  List<OwnerSnapshot> ownership() {
    return List.copyOf(ownership);
  }

  private InjectedFault skipped(Fault fault, String target, String why) {
    say(fault.describe(target) + ": skipped, " + why);
    long now = probe.estimatedDbMillis();
    return new InjectedFault(fault, target, now, now, Map.of(), why);
  }

  /** Database up, then every master healed; what fails is said, and the rest still done. */
  void healEverything() throws InterruptedException {
    try {
      database.start();
    } catch (java.io.IOException e) {
      say("  could not start the database again: " + e);
    }
    try {
      cluster.healAll();
    } catch (java.io.IOException e) {
      say("  could not heal every master: " + e);
    }
    for (Nemesis n : nemeses.values()) {
      try {
        n.healAll();
      } catch (Exception e) {
        say("  could not undo what " + n.getClass().getSimpleName() + " left: " + e);
      }
    }
  }

  private void say(String line) {
    log.say(line);
  }
}
