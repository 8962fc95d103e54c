package io.arbiter.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/**
 * The seeded slowness and failures of one master's start and stop callbacks: each callback waits a
 * time drawn uniformly from 0 to {@code delayMax} (in steps of 10 ms) and fails with probability
 * {@code failureRate}. They apply only while the switch file exists: the run creates it when its
 * faults begin (so that every master starts cleanly) and deletes it at the final heal.
 */
final class CallbackFaults {
  /** Nothing slow, nothing failing. */
  static final CallbackFaults NONE = new CallbackFaults(Duration.ZERO, 0, 0, null);

  private final long delayMaxMillis;
  private final double failureRate;
  private final Random random;
  private final Path armedWhileExists;

  CallbackFaults(Duration delayMax, double failureRate, long seed, Path armedWhileExists) {
    this.delayMaxMillis = delayMax.toMillis();
    this.failureRate = failureRate;
    this.random = new Random(seed);
    this.armedWhileExists = armedWhileExists;
  }

  /** What one callback is to do. */
  record Draw(long delayMillis, boolean fail) {}

  synchronized Draw draw() {
    if (armedWhileExists != null && !Files.exists(armedWhileExists)) {
      return new Draw(0, false);
    }
    long delay = delayMaxMillis <= 0 ? 0 : 10L * random.nextInt((int) (delayMaxMillis / 10) + 1);
    boolean fail = failureRate > 0 && random.nextDouble() < failureRate;
    return new Draw(delay, fail);
  }
}
