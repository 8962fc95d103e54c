package io.arbiter;

import java.util.concurrent.TimeUnit;

/**
 * A sleep that another thread can cut short. Used instead of thread interrupts, which some JDBC
 * drivers answer by closing the connection.
 */
final class Wakeup {
  private boolean signalled;

  synchronized void signal() {
    signalled = true;
    notifyAll();
  }

  /** Sleeps up to {@code nanos}, returning early if signalled since the last call. */
  synchronized void await(long nanos) {
    long deadline = System.nanoTime() + nanos;
    while (!signalled) {
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
}
