package io.arbiter.bench;

import picocli.CommandLine.Command;

/** `arbiter bench NAME`: measurements; with --json the last line is one JSON object. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measure Arbiter; with --json the last line printed is one JSON object.",
    subcommands = {FailoverBench.class, BalanceBench.class, IdleBench.class, EvictBench.class})
public final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /**
   * Runs {@code bench ARGS} (the benchmark's name first), errors written to {@code err}; returns
   * the exit code.
   */
  public static int run(java.io.PrintWriter err, String... args) {
    return io.arbiter.examples.cli.ArbiterCommandLine.execute(new BenchCommand(), err, args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
