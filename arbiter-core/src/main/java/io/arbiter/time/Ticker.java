package io.arbiter.time;

/**
 * A monotonic clock in nanoseconds, used for the master's own measure of its remaining lease. Only
 * differences between two readings mean anything. Tests inject a manual one.
 */
@FunctionalInterface
public interface Ticker {
  long nanos();

  static Ticker system() {
    return System::nanoTime;
  }
}
