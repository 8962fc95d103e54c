package io.arbiter.cli;

import io.arbiter.bench.BenchCommand;
import io.arbiter.cli.runtime.AdminCommands;
import io.arbiter.cli.runtime.MasterCommand;
import io.arbiter.cli.runtime.StatusCommand;
import io.arbiter.examples.cli.ArbiterCommandLine;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code arbiter} tool ({@code arbiter.jar}): the demo, the benchmarks and chaos runs, and the
 * runtime commands of {@link io.arbiter.cli.runtime.MasterMain}.
 */
@Command(
    name = "arbiter",
    mixinStandardHelpOptions = true,
    version = "arbiter 0.1.0",
    description = "Several masters of one server, one shared database: fenced clustered services.",
    subcommands = {
      DemoCommand.class,
      MasterCommand.class,
      StatusCommand.class,
      AdminCommands.Drain.class,
      AdminCommands.Undrain.class,
      AdminCommands.Move.class,
      BenchCommand.class,
      ChaosCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String... args) {
    return run(new java.io.PrintWriter(System.err, true), args);
  }

  /** Runs the command with errors written to {@code err} (tests read them). */
  public static int run(java.io.PrintWriter err, String... args) {
    return ArbiterCommandLine.execute(new Main(), err, args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
