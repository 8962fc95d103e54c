package io.arbiter.chaos;

import io.arbiter.testkit.FaultProxy;
import java.time.Duration;

/**
 * One planned fault of a {@link FaultSchedule}: what, on whom, for how long, and how long to wait
 * after it (once the cluster has recovered) before the next one.
 *
 * @param duration how long the fault lasts: the delay before a killed master is restarted, the
 *     length of a pause, a cut link, a database outage or a clock step
 * @param linkMode LINK: how the link is cut; CLOCK: {@code BLACKHOLE} if the link is also cut while
 *     the clock is stepped (the case a lease measured on the wall clock gets wrong), else null
 * @param clockShift CLOCK: how far the wall clock is stepped (negative: back); zero otherwise
 * @param lostCommits LOSTACK: how many of the target's write commits lose their acknowledgement
 *     during the fault ({@link Integer#MAX_VALUE}: every one); zero otherwise
 * @param moves LOSTACK: how many services are moved onto the target when the fault begins (as an
 *     operator's {@code arbiter move} would), so that it claims while its acknowledgements are lost
 */
public record Fault(
    int number,
    FaultKind kind,
    FaultTarget target,
    Duration duration,
    Duration pauseAfter,
    FaultProxy.Mode linkMode,
    Duration clockShift,
    int lostCommits,
    int moves) {

  /** A fault of a kind that has no lost commits and no moves. */
  public Fault(
      int number,
      FaultKind kind,
      FaultTarget target,
      Duration duration,
      Duration pauseAfter,
      FaultProxy.Mode linkMode,
      Duration clockShift) {
    this(number, kind, target, duration, pauseAfter, linkMode, clockShift, 0, 0);
  }

  /** For a person: "#3 SIGSTOP m2 (the busiest master) for 4200 ms". */
  public String describe(String targetName) {
    boolean resolved = !targetName.equals(target.toString());
    String who = target.isBusiest() && resolved ? targetName + " (the busiest master)" : targetName;
    long ms = duration.toMillis();
    String what =
        switch (kind) {
          case KILL -> "kill -9 " + who + ", restart after " + ms + " ms";
          case PAUSE -> "SIGSTOP " + who + " for " + ms + " ms";
          case LINK -> "cut the link of " + who + " (" + linkMode + ") for " + ms + " ms";
          case DBRESTART -> "restart the database, down for " + ms + " ms";
          case READONLY -> "turn the database read-only for " + ms + " ms";
          case FAILOVER ->
              "fail the database over to its replica, a new replica " + ms + " ms later";
          case LOSTACK ->
              "lose the acknowledgements of "
                  + (lostCommits == Integer.MAX_VALUE ? "every" : "the next " + lostCommits)
                  + " write commit(s) of "
                  + who
                  + " for "
                  + ms
                  + " ms, moving "
                  + moves
                  + " service(s) onto it";
          case CLOCK ->
              "step the wall clock of "
                  + who
                  + " by "
                  + clockShift.toMillis()
                  + " ms for "
                  + ms
                  + " ms"
                  + (linkMode != null ? ", its link cut (" + linkMode + ") meanwhile" : "");
        };
    return "#" + number + " " + what;
  }
}
