package io.arbiter.examples.buildfarm;

import io.arbiter.FencingToken;

/**
 * Hears every attempt of a {@link TickingService} to act: the chaos harness records them as the
 * history its self-fencing checker reads. Called on the service's thread; must be quick.
 */
@FunctionalInterface
public interface TickObserver {
  /** Hears nothing. */
  TickObserver NONE = (token, decidedNanos, outcome) -> {};

  /** How one attempt to act ended. */
  enum Outcome {
    /** The fenced write was accepted. */
    OK,
    /** The fence rejected the write: the token was stale. */
    REJECTED,
    /** The write failed for another reason (the database did not answer, say). */
    UNKNOWN,
    /** The service saw its lease run out ({@code isActive()} false) and did not try. */
    SKIPPED
  }

  /**
   * One attempt to act under {@code token}.
   *
   * @param decidedNanos when the service decided to act, on {@link System#nanoTime()}
   */
  void act(FencingToken token, long decidedNanos, Outcome outcome);
}
