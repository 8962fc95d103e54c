package io.arbiter.chaos;

/**
 * Whom a fault hits, as the schedule names it: master number {@code n} (1-based), the master that
 * owns the most services when the fault starts ({@code n = 0}), or the database ({@code n = -1}).
 * Aiming at the busiest master makes most faults move services (Arbiter does not balance load yet,
 * so one master often owns nearly all); the schedule stays reproducible because it names the role,
 * and the run records which master that turned out to be.
 */
public record FaultTarget(int master) {
  private static final FaultTarget BUSIEST = new FaultTarget(0);
  private static final FaultTarget DATABASE = new FaultTarget(-1);

  public static FaultTarget busiest() {
    return BUSIEST;
  }

  public static FaultTarget database() {
    return DATABASE;
  }

  public static FaultTarget master(int number) {
    if (number < 1) {
      throw new IllegalArgumentException("master numbers start at 1: " + number);
    }
    return new FaultTarget(number);
  }

  public boolean isBusiest() {
    return master == 0;
  }

  public boolean isDatabase() {
    return master < 0;
  }

  @Override
  public String toString() {
    return isDatabase() ? "the database" : isBusiest() ? "the busiest master" : "m" + master;
  }
}
