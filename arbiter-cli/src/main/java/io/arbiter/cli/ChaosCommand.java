package io.arbiter.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.chaos.ChaosOptions;
import io.arbiter.chaos.ChaosReport;
import io.arbiter.chaos.ChaosRun;
import io.arbiter.chaos.FaultKind;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `arbiter chaos`: faults against real master processes, then the history checked. */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = {
      "Run N masters of the demo workload, inject faults from a seeded schedule (kill -9, SIGSTOP,"
          + " cut links, database restarts, clock steps, lost commit acknowledgements, a read-only"
          + " database), then check the history: safety, liveness, owner-runs, self-fencing. Exits 1 on any violation. See docs/verification.md."
    })
public final class ChaosCommand implements Callable<Integer> {
  @Mixin DbOptions db;

  @Option(
      names = "--masters",
      defaultValue = "" + ChaosOptions.DEFAULT_MASTERS,
      description = "Master processes (default ${DEFAULT-VALUE}).")
  int masters;

  @Option(
      names = "--services",
      defaultValue = "" + ChaosOptions.DEFAULT_SERVICES,
      description = "Clustered services (default ${DEFAULT-VALUE}).")
  int services;

  @Option(
      names = "--duration",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description = "How long to inject faults (default ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--seed", description = "Seed of the fault schedule (default: random, printed).")
  Long seed;

  @Option(
      names = "--faults",
      description =
          "Kinds of fault, comma-separated, or all (default: all of them; a server URL leaves out"
              + " dbrestart, and readonly unless it is PostgreSQL).")
  String faults = FaultKind.allLabels();

  @Option(
      names = "--plant-bug",
      description =
          "Break a safety mechanism in every master, to see the checker catch it: skip-fence,"
              + " no-self-fence, wall-clock-lease, forget-lost-ack, keep-failed-start."
              + " Repeatable.")
  List<String> plantBugs = new ArrayList<>();

  @Option(
      names = "--lease-ttl",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Lease TTL of the masters (default ${DEFAULT-VALUE}).")
  Duration leaseTtl;

  @Option(
      names = "--tick",
      defaultValue = "50ms",
      converter = DurationConverter.class,
      description = "How long each service waits between writes (default ${DEFAULT-VALUE}).")
  Duration tick;

  @Option(
      names = "--work",
      defaultValue = "100ms",
      converter = DurationConverter.class,
      description =
          "How long each service works between deciding to write and writing (default"
              + " ${DEFAULT-VALUE}): a pause landing there makes a stale write.")
  Duration work;

  @Option(
      names = "--callback-delay-max",
      defaultValue = "0s",
      converter = DurationConverter.class,
      description =
          "Each start and stop callback of the workload first waits a seeded random time up to"
              + " this, while faults are injected (default ${DEFAULT-VALUE}); beyond the lease,"
              + " faults land inside callbacks.")
  Duration callbackDelayMax;

  @Option(
      names = "--callback-failure-rate",
      defaultValue = "0",
      description =
          "The probability that a start or stop callback fails, while faults are injected"
              + " (default ${DEFAULT-VALUE}).")
  double callbackFailureRate;

  @Option(
      names = "--callback-timeout",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "The masters' callback timeout: how long they wait for a start or stop callback"
              + " (default ${DEFAULT-VALUE}).")
  Duration callbackTimeout;

  @Option(
      names = "--history-dir",
      description = "Where histories and logs go (default: a new temporary directory).")
  Path historyDir;

  @Option(names = "--json", description = "End with one line of JSON with the figures.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    // The harness's own pool loses its connections at every database restart, on purpose.
    System.setProperty("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "error");
    if (db.dataDir() != null) {
      throw new io.arbiter.InvalidConfigException(
          "--data-dir",
          db.dataDir(),
          "is not for chaos runs: the run keeps its own database in its history directory"
              + " (--history-dir) and deletes it at the end");
    }
    ChaosOptions.Builder b =
        ChaosOptions.builder()
            .database(db.embedded() ? null : db.url("chaos"), db.user(), db.password())
            .createSchema(db.createSchema())
            .masters(masters)
            .services(services)
            .duration(duration)
            .faults(FaultKind.parseList(faults))
            .leaseTtl(leaseTtl)
            .tick(tick)
            .work(work)
            .callbackDelayMax(callbackDelayMax)
            .callbackFailureRate(callbackFailureRate)
            .callbackTimeout(callbackTimeout)
            .workDir(historyDir);
    if (seed != null) {
      b.seed(seed);
    }
    plantBugs.forEach(b::plantBug);
    ChaosReport report = new ChaosRun(b.build(), System.out).run();
    System.out.print(report.summary());
    if (json) {
      System.out.println(new ObjectMapper().writeValueAsString(report.json()));
    }
    System.out.flush();
    return report.passed() ? 0 : 1;
  }
}
