package io.arbiter.cli.bench;

import picocli.CommandLine.Command;

/** `arbiter bench NAME`: measurements; with --json the last line is one JSON object. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measure Arbiter; with --json the last line printed is one JSON object.",
    subcommands = {FailoverBench.class, BalanceBench.class, IdleBench.class, EvictBench.class})
public final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
