package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/**
 * Steps one master's wall clock (through its clock-offset file), sometimes while its link is cut.
 * Harmless by design: leases are judged by the database's clock, and a master measures its own on
 * the monotonic clock. A master that measured it on the wall clock would, after a step back while
 * it cannot renew, believe it still holds a lease that has run out.
 */
public final class ClockNemesis implements Nemesis {
  @Override
  public Healing inject(Fault fault, ChaosMaster target) throws Exception {
    if (fault.linkMode() != null) {
      target.cutLink(fault.linkMode());
    }
    target.shiftClock(fault.clockShift().toMillis());
    return () -> {
      target.shiftClock(0);
      target.healLink();
    };
  }
}
