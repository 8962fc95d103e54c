package io.arbiter.time;

import java.util.concurrent.TimeUnit;

/**
 * How Arbiter's background threads sleep: {@link #await} is cut short by a wake-up (something may
 * be waiting), {@link #sleepUnlessClosed} only by {@link #close}, so that a stream of wake-ups
 * cannot turn a backoff into a busy loop. Monitors rather than interrupts, which some JDBC drivers
 * answer by closing the connection.
 */
public final class Wakeup {
  private boolean signalled;
  private boolean closed;

  public synchronized void signal() {
    signalled = true;
    notifyAll();
  }

  /** Sleeps up to {@code nanos}, returning early if signalled (since the last call) or closed. */
  public synchronized void await(long nanos) {
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
  public synchronized void sleepUnlessClosed(long nanos) {
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

  public synchronized void close() {
    closed = true;
    notifyAll();
  }
}
