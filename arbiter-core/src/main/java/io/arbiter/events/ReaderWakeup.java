package io.arbiter.events;

import java.util.concurrent.TimeUnit;

/**
 * The reader's sleep: cut short by a wake-up (an event may be waiting), and a separate backoff
 * sleep cut short only by close, so that a stream of wake-ups cannot turn retries against a dead
 * database into a busy loop. Monitors rather than interrupts, which some JDBC drivers answer by
 * closing the connection.
 */
final class ReaderWakeup {
  private boolean signalled;
  private boolean closed;

  synchronized void signal() {
    signalled = true;
    notifyAll();
  }

  /** Sleeps up to {@code nanos}, returning early if signalled (since the last call) or closed. */
  synchronized void await(long nanos) {
    long deadline = System.nanoTime() + nanos;
    while (!signalled && !closed) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    signalled = false;
  }

  /** Sleeps {@code nanos}, ignoring wake-ups; returns early only when closed. */
  synchronized void sleepUnlessClosed(long nanos) {
    long deadline = System.nanoTime() + nanos;
    while (!closed) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
  }

  synchronized void close() {
    closed = true;
    notifyAll();
  }
}
