package io.arbiter.chaos.check;

import io.arbiter.chaos.RunHistory;

/**
 * One property checked against a run's history. Each checker reads the whole history and reports
 * what it violates; none depends on another. The checks of later recipes plug in the same way: a
 * work-queue check (each item done once, in order per key) and a linearizability check of the ref
 * database's compare-and-put registers (Wing and Gong's search with Lowe's and Porcupine's pruning,
 * over the invoke/complete events of each register) read the same kind of history.
 */
public interface Checker {
  /** A short name: "safety", "liveness", "self-fencing". */
  String name();

  CheckResult check(RunHistory history);
}
