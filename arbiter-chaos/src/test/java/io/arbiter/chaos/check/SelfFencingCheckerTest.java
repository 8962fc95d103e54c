package io.arbiter.chaos.check;

import static io.arbiter.chaos.Histories.act;
import static io.arbiter.chaos.Histories.fence;
import static io.arbiter.chaos.Histories.lease;
import static io.arbiter.chaos.Histories.start;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.chaos.Histories;
import org.junit.jupiter.api.Test;

/** Lease 3000 ms, margin 500 ms: an act must come less than 2500 ms after the lease was sent. */
class SelfFencingCheckerTest {
  private final SelfFencingChecker checker = new SelfFencingChecker();

  @Test
  void actsBeforeTheDeadlineAndSkipsAfterItAreFine() {
    CheckResult r =
        checker.check(
            new Histories()
                .master(
                    "m1",
                    start("m1", 10),
                    lease("join", "m1", 1, 0),
                    act("m1", 1, 1, 100, "ok"),
                    lease("renew", "m1", 1, 1_000),
                    act("m1", 1, 1, 3_400, "ok"), // deadline 1000 + 2500
                    act("m1", 1, 1, 3_499, "rejected"),
                    fence("m1", 1, 3_500),
                    act("m1", 1, 1, 3_600, "skipped"), // it knows, and does not write
                    lease("join", "m1", 2, 4_000),
                    act("m1", 2, 2, 4_100, "unknown"))
                .build());
    assertThat(r.violations()).isEmpty();
    assertThat(r.figures()).containsEntry("acts", 5L).containsEntry("acts_checked", 4L);
  }

  @Test
  void anActAfterTheDeadlineIsAViolationWithTheLinesThatShowIt() {
    CheckResult r =
        checker.check(
            new Histories()
                .master(
                    "m1",
                    start("m1", 10),
                    lease("join", "m1", 1, 0),
                    lease("renew", "m1", 1, 1_000),
                    act("m1", 1, 1, 3_700, "rejected"), // 200 ms late
                    act("m1", 1, 1, 3_900, "unknown"),
                    fence("m1", 1, 4_000))
                .build());
    assertThat(r.violations()).hasSize(1);
    Violation v = r.violations().get(0);
    assertThat(v.check()).isEqualTo("self-fencing");
    assertThat(v.summary())
        .contains("m1#1 acted 2 time(s) after its lease deadline, the first 200 ms late");
    assertThat(v.excerpt()).hasSize(4);
    assertThat(v.excerpt().get(0)).startsWith("m1.jsonl:3 ").contains("\"renew\"");
    assertThat(v.excerpt().get(1)).startsWith("m1.jsonl:4 ").contains("\"rejected\"");
    assertThat(v.excerpt().get(3)).startsWith("m1.jsonl:6 ").contains("\"fence\"");
  }

  @Test
  void anActWithNoLeaseOfItsIncarnationIsAViolation() {
    CheckResult r =
        checker.check(
            new Histories()
                .master(
                    "m1", start("m1", 10), lease("join", "m1", 1, 0), act("m1", 2, 5, 100, "ok"))
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(
            v -> assertThat(v.summary()).contains("m1#2 acted 1 time(s) with no join or renewal"));
  }

  @Test
  void monotonicTimesOfARestartedProcessAreNotComparedWithItsPredecessors() {
    // The second process's clock starts low again: its act at 100 is judged by its own join.
    CheckResult r =
        checker.check(
            new Histories()
                .master(
                    "m1",
                    start("m1", 10),
                    lease("join", "m1", 1, 50_000),
                    act("m1", 1, 1, 51_000, "ok"),
                    start("m1", 11),
                    lease("join", "m1", 2, 0),
                    act("m1", 2, 2, 100, "ok"))
                .build());
    assertThat(r.violations()).isEmpty();
  }

  @Test
  void aRenewalSentLaterDoesNotExcuseAnEarlierLateAct() {
    CheckResult r =
        checker.check(
            new Histories()
                .master(
                    "m1",
                    start("m1", 10),
                    lease("join", "m1", 1, 0),
                    act("m1", 1, 1, 2_600, "ok"),
                    lease("renew", "m1", 1, 2_700))
                .build());
    assertThat(r.violations()).hasSize(1);
  }
}
