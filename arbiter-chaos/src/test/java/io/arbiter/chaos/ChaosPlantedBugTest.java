package io.arbiter.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The checker must be able to fail: short real chaos runs (3 master JVMs, an embedded PostgreSQL of
 * the run's own) with one safety mechanism broken on purpose must report violations, and the same
 * run with nothing broken must report none. The masters run {@link ChaosMasterMain} from this
 * module's test classpath. Histories and logs are kept in {@code target/chaos-planted-bugs/}.
 */
@Tag("slow")
class ChaosPlantedBugTest {
  private static final Duration TTL = ChaosOptions.DEFAULT_LEASE_TTL;
  private static final int MASTERS = 3;

  @Test
  void aSkippedFenceLetsAStaleWriteThroughAfterAPauseAndSafetyCatchesIt() throws Exception {
    // A master frozen between deciding to write and writing wakes with a stale token; with the
    // fence skipped, the database accepts that write after the new owner's.
    // Work nearly all the time, so that each pause surely lands between a decision and its write.
    ChaosReport report =
        run(
            "skip-fence",
            EnumSet.of(FaultKind.PAUSE),
            // A long pause: the new owner has surely written before the frozen one wakes.
            f -> f.target().isBusiest() && f.duration().toMillis() >= TTL.toMillis() + 2_500,
            15,
            o -> o.tick(Duration.ofMillis(20)).work(Duration.ofMillis(300)));
    assertThat(report.violations("safety"))
        .as("safety violations with the fence skipped:%n%s", report.summary())
        .isNotEmpty();
  }

  @Test
  void noSelfFenceKeepsACutOffMasterActingAndSelfFencingCatchesIt() throws Exception {
    // Cut off from the database for longer than the lease, a master that does not fence itself
    // keeps deciding to act after its own deadline (the database's fence still refuses the writes).
    ChaosReport report =
        run(
            "no-self-fence",
            EnumSet.of(FaultKind.LINK),
            f -> f.target().isBusiest() && f.duration().toMillis() >= TTL.toMillis() + 1_500,
            15,
            o -> o);
    assertThat(report.violations("self-fencing"))
        .as("self-fencing violations with no self-fence:%n%s", report.summary())
        .isNotEmpty();
  }

  @Test
  void aLeaseOnTheWallClockOutlivesAStepBackAndSelfFencingCatchesIt() throws Exception {
    // The clock steps back by more than the lease while the link is cut: a lease measured on the
    // wall clock seems to have seconds left, and the master acts after its real deadline.
    ChaosReport report =
        run(
            "wall-clock-lease",
            EnumSet.of(FaultKind.CLOCK),
            f -> f.target().isBusiest() && f.linkMode() != null,
            15,
            o -> o);
    assertThat(report.violations("self-fencing"))
        .as("self-fencing violations with a wall-clock lease:%n%s", report.summary())
        .isNotEmpty();
  }

  @Test
  void aForgottenLostAcknowledgementLeavesAServiceRunningNowhereAndOwnerRunsCatchesIt()
      throws Exception {
    // Every write commit of the target loses its acknowledgement for a while, and services are
    // moved onto it: its claim commits, it hears an error, and with the reconciliation of its own
    // rows switched off it never starts the service nor lets it go.
    ChaosReport report =
        run(
            "forget-lost-ack",
            EnumSet.of(FaultKind.LOSTACK),
            f -> f.lostCommits() == Integer.MAX_VALUE && f.duration().toMillis() >= 2_000,
            15,
            o -> o.callbackTimeout(Duration.ofSeconds(2)));
    assertThat(report.violations("owner-runs"))
        .as("owner-runs violations with lost acknowledgements forgotten:%n%s", report.summary())
        .isNotEmpty();
  }

  @Test
  void aFailedStartThatKeepsItsRowLeavesAServiceRunningNowhereAndOwnerRunsCatchesIt()
      throws Exception {
    // Kills make the survivors (and the restarted master) claim and start services; a third of
    // the starts fail, and with the bug the row stays with the master that failed to start it.
    ChaosReport report =
        run(
            "keep-failed-start",
            EnumSet.of(FaultKind.KILL),
            f -> f.target().isBusiest(),
            15,
            o -> o.callbackTimeout(Duration.ofSeconds(2)).callbackFailureRate(0.3));
    assertThat(report.violations("owner-runs"))
        .as("owner-runs violations with failed starts kept:%n%s", report.summary())
        .isNotEmpty();
  }

  @Test
  void withNothingBrokenEveryKindOfFaultLeavesNoViolation() throws Exception {
    // Slow and failing callbacks too, so that faults land inside them.
    ChaosReport report =
        run(
            null,
            EnumSet.allOf(FaultKind.class),
            f -> true,
            25,
            o -> o.callbackDelayMax(Duration.ofSeconds(2)).callbackFailureRate(0.05));
    assertThat(report.faultCount()).as("faults injected:%n%s", report.summary()).isPositive();
    assertThat(report.violations()).as("violations:%n%s", report.summary()).isEmpty();
  }

  /**
   * A run of {@code seconds} of faults of {@code kinds}, with a seed whose first fault matches
   * {@code firstFault} (so that the run surely contains a fault that exposes the bug).
   */
  private static ChaosReport run(
      String bug,
      Set<FaultKind> kinds,
      Predicate<Fault> firstFault,
      int seconds,
      UnaryOperator<ChaosOptions.Builder> tune)
      throws Exception {
    long seed = 1;
    while (!firstFault.test(new FaultSchedule(seed, kinds, MASTERS, TTL).next())) {
      seed++;
    }
    ChaosOptions.Builder options =
        ChaosOptions.builder()
            .masters(MASTERS)
            .faults(kinds)
            .seed(seed)
            .duration(Duration.ofSeconds(seconds))
            .workDir(
                Path.of(
                    "target",
                    "chaos-planted-bugs",
                    (bug == null ? "none" : bug) + "-" + System.currentTimeMillis()));
    if (bug != null) {
      options.plantBug(bug);
    }
    ChaosReport report = new ChaosRun(tune.apply(options).build(), System.out).run();
    System.out.print(report.summary());
    return report;
  }
}
