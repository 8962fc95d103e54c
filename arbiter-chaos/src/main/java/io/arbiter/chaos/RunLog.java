package io.arbiter.chaos;

import java.io.PrintStream;

/** The run's progress lines, each with the seconds since the run began. */
final class RunLog {
  private final PrintStream out;
  private final long startedNanos = System.nanoTime();

  RunLog(PrintStream out) {
    this.out = out;
  }

  void say(String line) {
    long tenths = (System.nanoTime() - startedNanos) / 100_000_000;
    out.printf("[%4d.%d s] %s%n", tenths / 10, tenths % 10, line);
    out.flush();
  }
}
