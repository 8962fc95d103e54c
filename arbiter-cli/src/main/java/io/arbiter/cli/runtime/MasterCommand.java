package io.arbiter.cli.runtime;

import io.arbiter.examples.buildfarm.BuildFarmMaster;
import io.arbiter.examples.buildfarm.BuildFarmMasterOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** One master of the build-farm workload, until SIGTERM/Ctrl-C (a clean stop) or a failure. */
@Command(
    name = "master",
    mixinStandardHelpOptions = true,
    description = "Run one master of the demo build-farm workload against a database.")
public final class MasterCommand implements Callable<Integer> {
  @Mixin BuildFarmMasterOptions options;

  @Override
  public Integer call() throws Exception {
    return BuildFarmMaster.create(options).run();
  }
}
