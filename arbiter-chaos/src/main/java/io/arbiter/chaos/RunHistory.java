package io.arbiter.chaos;

import io.arbiter.examples.buildfarm.TickHistory;
import java.util.List;

/**
 * Everything a chaos run recorded, as the {@link io.arbiter.chaos.check.Checker}s read it: the
 * writes the database accepted, what each master says it did, the faults and the end state. Built
 * by a run, or by hand in tests.
 *
 * @param ticks accepted writes of this run's services, in id (insert) order
 * @param databaseViolations what {@link TickHistory#violations} found by SQL, an independent second
 *     reading of the same table
 * @param callbackTimeoutMillis the masters' callback timeout
 * @param callbackDelayMaxMillis the longest a workload callback was made to wait (0: no delays)
 * @param ownership who owned what at times during the run and at its end
 */
public record RunHistory(
    long leaseTtlMillis,
    List<String> services,
    List<Tick> ticks,
    List<TickHistory.Violation> databaseViolations,
    List<MasterHistory> masters,
    List<InjectedFault> faults,
    FinalState end,
    long callbackTimeoutMillis,
    long callbackDelayMaxMillis,
    List<OwnerSnapshot> ownership) {

  /** A history with the default callback timeout, no callback delays and no ownership snapshots. */
  public RunHistory(
      long leaseTtlMillis,
      List<String> services,
      List<Tick> ticks,
      List<TickHistory.Violation> databaseViolations,
      List<MasterHistory> masters,
      List<InjectedFault> faults,
      FinalState end) {
    this(
        leaseTtlMillis,
        services,
        ticks,
        databaseViolations,
        masters,
        faults,
        end,
        ChaosOptions.DEFAULT_CALLBACK_TIMEOUT.toMillis(),
        0,
        List.of());
  }

  /** The faults active at {@code millis} on the database clock, for excerpts. */
  public String faultsAt(long millis) {
    return faultsDuring(millis, millis);
  }

  /** The faults active at some moment between {@code from} and {@code to}, for excerpts. */
  public String faultsDuring(long from, long to) {
    StringBuilder sb = new StringBuilder();
    for (InjectedFault f : faults) {
      if (f.injected() && f.startMillis() <= to && f.healMillis() >= from) {
        sb.append(sb.length() == 0 ? "" : ", ").append(f.label());
      }
    }
    return sb.length() == 0 ? "no fault active" : "during " + sb;
  }
}
