package io.arbiter.chaos;

import io.arbiter.testkit.FaultProxy;
import io.arbiter.testkit.process.ChildJvm;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The masters of a chaos run, each a separate JVM ({@link ChaosMasterMain}) that reaches the
 * database only through its own {@link FaultProxy}. Closing it stops every master (through {@link
 * MasterFleet}, which also does so from a shutdown hook) and then the proxies.
 */
final class ChaosCluster implements AutoCloseable {
  private final MasterFleet fleet;
  private final List<FaultProxy> proxies = new ArrayList<>();
  private final List<ChaosMaster> masters = new ArrayList<>();

  private ChaosCluster(MasterFleet fleet) {
    this.fleet = fleet;
  }

  /**
   * Starts {@code options.masters()} masters named {@code PREFIX m1}, {@code PREFIX m2}, ... whose
   * histories and logs go to {@code dir}.
   */
  static ChaosCluster start(ChaosOptions options, String jdbcUrl, String prefix, Path dir)
      throws IOException {
    ChildJvm jvm = ChildJvm.classpath(ChaosMasterMain.class.getName());
    if (!options.plantedBugs().isEmpty()) {
      jvm =
          jvm.withJvmOptions(
              List.of(
                  "-D"
                      + ChaosMasterMain.PLANTED_BUGS_PROPERTY
                      + "="
                      + String.join(",", options.plantedBugs())));
    }
    ChaosCluster cluster = new ChaosCluster(new MasterFleet(dir, jvm));
    try {
      for (int i = 1; i <= options.masters(); i++) {
        cluster.startMaster(options, jdbcUrl, prefix, dir, "m" + i);
      }
      return cluster;
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  private void startMaster(
      ChaosOptions options, String jdbcUrl, String prefix, Path dir, String shortName)
      throws IOException {
    FaultProxy proxy = FaultProxy.forUrl(jdbcUrl);
    proxies.add(proxy);
    Path history = dir.resolve(shortName + ".jsonl");
    ClockOffsetFile clock = new ClockOffsetFile(dir.resolve(shortName + ".clock-offset"));
    clock.set(0);
    List<String> args =
        new ArrayList<>(
            List.of(
                "--db",
                proxy.jdbcUrl(jdbcUrl),
                "--services",
                String.valueOf(options.services()),
                "--service-prefix",
                prefix,
                "--lease-ttl",
                options.leaseTtl().toMillis() + "ms",
                "--tick",
                options.tick().toMillis() + "ms",
                "--work",
                options.work().toMillis() + "ms",
                "--history",
                history.toString(),
                "--clock-offset-file",
                clock.path().toString(),
                "--callback-timeout",
                options.callbackTimeout().toMillis() + "ms",
                "--callback-delay-max",
                options.callbackDelayMax().toMillis() + "ms",
                "--callback-failure-rate",
                String.valueOf(options.callbackFailureRate()),
                "--callback-seed",
                String.valueOf(options.seed()),
                "--callback-faults-switch",
                callbackFaultsSwitch(dir).toString()));
    if (!options.createSchema()) {
      args.add("--no-create-schema");
    }
    if (options.user() != null) {
      args.addAll(List.of("--db-user", options.user()));
    }
    if (options.password() != null) {
      args.addAll(List.of("--db-password", options.password()));
    }
    MasterProcess process = fleet.start(prefix + shortName, args);
    masters.add(new ChaosMaster(shortName, fleet, process, proxy, clock, history));
  }

  /** The file whose existence turns the masters' callback delays and failures on. */
  static Path callbackFaultsSwitch(Path dir) {
    return dir.resolve("callback-faults.on");
  }

  List<ChaosMaster> masters() {
    return List.copyOf(masters);
  }

  /** Master number {@code n}, from 1. */
  ChaosMaster master(int n) {
    return masters.get(n - 1);
  }

  ChaosMaster named(String name) {
    return masters.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  List<String> names() {
    return masters.stream().map(ChaosMaster::name).toList();
  }

  /** Undoes every fault on every master. */
  void healAll() throws IOException, InterruptedException {
    for (ChaosMaster m : masters) {
      m.healAll();
    }
  }

  @Override
  public void close() {
    // Open every link first: a master stopping cleanly releases its services in the database.
    proxies.forEach(p -> p.mode(FaultProxy.Mode.OPEN));
    fleet.close();
    proxies.forEach(FaultProxy::close);
  }
}
