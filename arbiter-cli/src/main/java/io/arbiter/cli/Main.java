package io.arbiter.cli;

import io.arbiter.ArbiterException;
import io.arbiter.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code arbiter} command. */
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
      EmbeddedDbCommand.class,
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
    CommandLine cli = new CommandLine(new Main());
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof ArbiterException) {
            cmd.getErr().println("arbiter " + cmd.getCommandName() + ": " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cli.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
