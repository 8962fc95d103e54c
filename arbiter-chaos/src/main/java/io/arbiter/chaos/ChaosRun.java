package io.arbiter.chaos;

import io.arbiter.InvalidConfigException;
import io.arbiter.chaos.check.Checker;
import io.arbiter.chaos.check.LivenessChecker;
import io.arbiter.chaos.check.OwnerRunsChecker;
import io.arbiter.chaos.check.SafetyChecker;
import io.arbiter.chaos.check.SelfFencingChecker;
import io.arbiter.chaos.nemesis.ClockNemesis;
import io.arbiter.chaos.nemesis.DatabaseRestartNemesis;
import io.arbiter.chaos.nemesis.FailoverNemesis;
import io.arbiter.chaos.nemesis.KillNemesis;
import io.arbiter.chaos.nemesis.LinkNemesis;
import io.arbiter.chaos.nemesis.LostAckNemesis;
import io.arbiter.chaos.nemesis.Nemesis;
import io.arbiter.chaos.nemesis.PauseNemesis;
import io.arbiter.chaos.nemesis.ReadOnlyNemesis;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One chaos run, start to end: a database, N master processes behind fault proxies, faults from the
 * seeded schedule until the time is up, every fault healed, a settling time, then the history read
 * back and checked.
 */
public final class ChaosRun {
  /** The checks every run makes. */
  public static final List<Checker> CHECKERS =
      List.of(
          new SafetyChecker(),
          new LivenessChecker(),
          new OwnerRunsChecker(),
          new SelfFencingChecker());

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);

  private final ChaosOptions options;
  private final RunLog log;

  public ChaosRun(ChaosOptions options, PrintStream out) {
    this.options = options;
    this.log = new RunLog(out);
  }

  public ChaosReport run() throws IOException, InterruptedException, SQLException {
    Path dir =
        options.workDir() != null
            ? Files.createDirectories(options.workDir())
            : Files.createTempDirectory("arbiter-chaos-");
    // Unique names, so that runs (and the tests) can share one database server.
    String prefix = "chaos-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    say(
        String.format(
            "arbiter chaos: seed %d (the same seed gives the same faults: --seed %d)",
            options.seed(), options.seed()));
    say("history and logs: " + dir);
    try (ChaosDatabase db = openDatabase(dir);
        ClusterProbe probe =
            new ClusterProbe(
                db.jdbcUrl(), options.user(), options.password(), options.createSchema(), prefix)) {
      say("database: " + db.label() + "; names start with " + prefix);
      Set<FaultKind> kinds = usableKinds(db);
      probe.prepare();
      try (ChaosCluster cluster = ChaosCluster.start(options, db.jdbcUrl(), prefix, dir)) {
        awaitStarted(cluster, probe, dir);
        Path callbackFaults = ChaosCluster.callbackFaultsSwitch(dir);
        Files.writeString(callbackFaults, "callback delays and failures on\n");
        FaultInjector injector =
            new FaultInjector(cluster, db, probe, nemeses(db, probe), options.leaseTtl(), log);
        List<InjectedFault> faults =
            injector.run(
                new FaultSchedule(options.seed(), kinds, options.masters(), options.leaseTtl()),
                options.duration());
        Files.deleteIfExists(callbackFaults); // callbacks as they are, for the final heal
        FinalState end = healAndSettle(injector, probe);
        injector.snapshotOwnership();
        cluster.close(); // clean stops: the histories are complete after this
        RunHistory history = collect(cluster, probe, faults, end, injector.ownership());
        return new ChaosReport(
            options,
            db.label(),
            dir,
            faults,
            history.ticks().size(),
            CHECKERS.stream().map(c -> c.check(history)).toList());
      }
    }
  }

  private void awaitStarted(ChaosCluster cluster, ClusterProbe probe, Path dir)
      throws InterruptedException {
    for (ChaosMaster m : cluster.masters()) {
      say(
          String.format(
              "  %s = %s, pid %d, history %s, log %s",
              m.shortName(),
              m.name(),
              m.process().pid(),
              m.historyFile().getFileName(),
              m.process().log().getFileName()));
    }
    if (!probe.awaitStarted(options.masters(), options.services(), STARTUP_TIMEOUT)) {
      throw new IllegalStateException(
          "the masters did not all join, claim and write within "
              + STARTUP_TIMEOUT.toSeconds()
              + " s; see their logs in "
              + dir);
    }
    say("all masters live, all " + options.services() + " services writing; faults begin");
  }

  /** Heals everything, lets the cluster settle for TTL + 2 s, and observes where it ended up. */
  private FinalState healAndSettle(FaultInjector injector, ClusterProbe probe)
      throws InterruptedException, SQLException {
    injector.healEverything();
    long healedAt = probe.estimatedDbMillis();
    // A start callback under way at the heal may still take its whole delay.
    Duration settle = options.leaseTtl().plusSeconds(2).plus(options.callbackDelayMax());
    say("every fault healed; settling for " + settle.toMillis() + " ms");
    Thread.sleep(settle.toMillis());
    return new FinalState(healedAt, probe.dbNowMillis(), probe.ownedByLiveMember());
  }

  private RunHistory collect(
      ChaosCluster cluster,
      ClusterProbe probe,
      List<InjectedFault> faults,
      FinalState end,
      List<OwnerSnapshot> ownership)
      throws IOException, SQLException {
    List<MasterHistory> histories = new ArrayList<>();
    for (ChaosMaster m : cluster.masters()) {
      histories.add(MasterHistory.read(m.name(), m.historyFile()));
    }
    return new RunHistory(
        options.leaseTtl().toMillis(),
        probe.services(),
        probe.ticks(),
        probe.databaseViolations(),
        histories,
        faults,
        end,
        options.callbackTimeout().toMillis(),
        options.callbackDelayMax().toMillis(),
        ownership);
  }

  private ChaosDatabase openDatabase(Path dir) throws IOException {
    if (!options.embedded()) {
      return ChaosDatabase.server(options.jdbcUrl());
    }
    if (options.faults().contains(FaultKind.FAILOVER)) {
      say("starting an embedded PostgreSQL primary and its synchronous streaming replica ...");
      return ReplicatedDatabase.start(dir.resolve("postgres.log"));
    }
    say("starting an embedded PostgreSQL ...");
    return EmbeddedDatabase.start(dir.resolve("postgres-data"), dir.resolve("postgres.log"));
  }

  /** The requested kinds this database allows: only an embedded one can be restarted. */
  private Set<FaultKind> usableKinds(ChaosDatabase db) {
    Set<FaultKind> kinds = EnumSet.copyOf(options.faults());
    if (kinds.contains(FaultKind.DBRESTART) && !db.restartable()) {
      kinds.remove(FaultKind.DBRESTART);
      say("note: no dbrestart faults: the run can only restart an embedded PostgreSQL");
    }
    if (kinds.contains(FaultKind.FAILOVER) && !db.canFailOver()) {
      kinds.remove(FaultKind.FAILOVER);
      say("note: no failover faults: the run can only fail over its embedded PostgreSQL");
    }
    if (kinds.contains(FaultKind.READONLY) && !db.jdbcUrl().startsWith("jdbc:postgresql:")) {
      kinds.remove(FaultKind.READONLY);
      say("note: no readonly faults: the run can only turn a PostgreSQL database read-only");
    }
    if (kinds.isEmpty()) {
      throw new InvalidConfigException(
          "--faults",
          options.faults().stream().map(FaultKind::label).sorted().toList(),
          "leaves no fault this database allows (dbrestart and failover need --db embedded,"
              + " readonly PostgreSQL); add other kinds of fault");
    }
    return kinds;
  }

  private static Map<FaultKind, Nemesis> nemeses(ChaosDatabase db, ClusterProbe probe) {
    Map<FaultKind, Nemesis> n = new EnumMap<>(FaultKind.class);
    n.put(FaultKind.KILL, new KillNemesis());
    n.put(FaultKind.PAUSE, new PauseNemesis());
    n.put(FaultKind.LINK, new LinkNemesis());
    n.put(FaultKind.CLOCK, new ClockNemesis());
    n.put(FaultKind.LOSTACK, new LostAckNemesis(probe));
    if (db.jdbcUrl().startsWith("jdbc:postgresql:")) {
      n.put(FaultKind.READONLY, new ReadOnlyNemesis(db.jdbcUrl()));
    }
    if (db.restartable()) {
      n.put(FaultKind.DBRESTART, new DatabaseRestartNemesis(db));
    }
    if (db.canFailOver()) {
      n.put(FaultKind.FAILOVER, new FailoverNemesis(db));
    }
    return n;
  }

  private void say(String line) {
    log.say(line);
  }
}
