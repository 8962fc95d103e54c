package io.arbiter.chaos;

import io.arbiter.examples.buildfarm.BuildFarmMaster;
import io.arbiter.examples.buildfarm.BuildFarmMasterOptions;
import io.arbiter.examples.cli.ArbiterCommandLine;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * One master of a chaos run, in a JVM of its own: the examples' build-farm master (the options of
 * {@code arbiter master}) with what the harness needs attached: a {@link MasterHistoryWriter} that
 * hears its lease events and every attempt of its services to act, and a wall clock shifted through
 * a {@link ClockOffsetFile}. Planted bugs come from {@code -D}{@value #PLANTED_BUGS_PROPERTY}.
 */
@Command(
    name = "chaos-master",
    mixinStandardHelpOptions = true,
    description = "One master of a chaos run (started by `arbiter chaos`).")
public final class ChaosMasterMain implements Callable<Integer> {
  /** The system property that carries the planted bugs' labels, comma-separated. */
  public static final String PLANTED_BUGS_PROPERTY = "arbiter.plantedBugs";

  @Mixin BuildFarmMasterOptions options;

  @Option(
      names = "--history",
      required = true,
      description = "Append what this master does to this file (JSON lines).")
  Path historyFile;

  @Option(
      names = "--clock-offset-file",
      description = "Shift this master's wall clock by the milliseconds written in this file.")
  Path clockOffsetFile;

  @Option(
      names = "--callback-delay-max",
      defaultValue = "0ms",
      converter = io.arbiter.examples.cli.DurationConverter.class,
      description = "Each start and stop callback first waits a random time up to this.")
  java.time.Duration callbackDelayMax;

  @Option(
      names = "--callback-failure-rate",
      defaultValue = "0",
      description = "The probability that a start or stop callback fails.")
  double callbackFailureRate;

  @Option(
      names = "--callback-seed",
      defaultValue = "0",
      description = "Seed of the callbacks' delays and failures (mixed with the master's name).")
  long callbackSeed;

  @Option(
      names = "--callback-faults-switch",
      description = "Callback delays and failures apply only while this file exists.")
  Path callbackFaultsSwitch;

  public static void main(String[] args) {
    System.exit(ArbiterCommandLine.execute(new ChaosMasterMain(), args));
  }

  @Override
  public Integer call() throws Exception {
    BuildFarmMaster master = BuildFarmMaster.create(options);
    MasterHistoryWriter history =
        MasterHistoryWriter.open(
            historyFile,
            options.name(),
            master.config().leaseTtl().toMillis(),
            master.config().selfFenceMargin().toMillis());
    CallbackFaults callbackFaults =
        new CallbackFaults(
            callbackDelayMax,
            callbackFailureRate,
            callbackSeed * 31 + options.name().hashCode(),
            callbackFaultsSwitch);
    master
        .listener(history)
        .tickObserver(history)
        .serviceWrapper(s -> new ChaosCallbacks(s, callbackFaults, history))
        .closeAtStop(history);
    if (clockOffsetFile != null) {
      master.clock(new OffsetClock(clockOffsetFile));
    }
    return master.run();
  }
}
