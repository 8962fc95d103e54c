package io.arbiter.examples.cli;

import io.arbiter.ArbiterException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * A picocli command line as every {@code arbiter} entry point runs it: an {@link ArbiterException}
 * (bad input, an unreachable database) ends in exit code 2 and one line {@code arbiter COMMAND:
 * message} that names the problem, not a stack trace.
 */
public final class ArbiterCommandLine {
  private ArbiterCommandLine() {}

  /**
   * Runs {@code command} with {@code args}, errors written to {@code err}; returns the exit code.
   */
  public static int execute(Object command, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(command);
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

  /** Runs {@code command} with errors on standard error. */
  public static int execute(Object command, String... args) {
    return execute(command, new PrintWriter(System.err, true), args);
  }
}
