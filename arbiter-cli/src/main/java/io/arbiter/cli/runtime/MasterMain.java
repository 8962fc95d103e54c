package io.arbiter.cli.runtime;

import io.arbiter.examples.cli.ArbiterCommandLine;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The master runtime ({@code arbiter-master.jar}): what a machine that runs masters needs, and
 * nothing of the tool (no demo, benchmarks or chaos, so no test code and no embedded database).
 */
@Command(
    name = "arbiter",
    mixinStandardHelpOptions = true,
    version = "arbiter 0.1.0",
    description = "Run a master, and operate a running cluster (the master runtime).",
    subcommands = {
      MasterCommand.class,
      StatusCommand.class,
      AdminCommands.Drain.class,
      AdminCommands.Undrain.class,
      AdminCommands.Move.class,
      CommandLine.HelpCommand.class
    })
public final class MasterMain implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(ArbiterCommandLine.execute(new MasterMain(), args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
