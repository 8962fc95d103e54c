package io.arbiter.chaos.check;

import static io.arbiter.chaos.Histories.callback;
import static io.arbiter.chaos.Histories.start;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.chaos.Histories;
import org.junit.jupiter.api.Test;

class OwnerRunsCheckerTest {
  private final OwnerRunsChecker checker = new OwnerRunsChecker();

  // Lease 3 s + callback timeout 2 s + slack 1 s.
  private static final long ALLOWED = 6_000;

  @Test
  void aServiceStartedWhereTheDatabaseSaysItIsOwnedIsFine() {
    CheckResult r =
        checker.check(
            new Histories()
                .callbackTimeout(2_000)
                .master(
                    "m1",
                    start("m1", 1),
                    callback("starting", "m1", 1, "s1", 4, 1_000),
                    callback("started", "m1", 1, "s1", 4, 1_200))
                .owners(60_000, "s1@4 m1#1 1000")
                .build());
    assertThat(r.violations()).isEmpty();
    assertThat(r.figures()).containsEntry("owned_services_checked", 1);
  }

  @Test
  void aClaimThatNeverStartedIsAViolationOnceItOutlivesTheAllowance() {
    // A claim whose acknowledgement was lost: the row is ours, but no start ever began.
    Histories h =
        new Histories()
            .callbackTimeout(2_000)
            .master("m1", start("m1", 1))
            .owners(1_000 + ALLOWED, "s1@4 m1#1 1000")
            .owners(1_000 + ALLOWED + 1, "s1@4 m1#1 1000")
            .owners(1_000 + ALLOWED + 500, "s1@4 m1#1 1000");
    CheckResult r = checker.check(h.build());
    assertThat(r.violations()).hasSize(1); // reported once, not at every snapshot
    assertThat(r.violations().get(0).summary())
        .isEqualTo(
            "s1 is owned by the live m1#1 but has not run there for 6001 ms (allowed: 6000 ms):"
                + " its master never began to start it (no start callback for this token)");
  }

  @Test
  void aStartUnderWayIsFineUntilTheCallbackTimeIsUp() {
    Histories h =
        new Histories()
            .callbackTimeout(2_000)
            .master("m1", start("m1", 1), callback("starting", "m1", 1, "s1", 4, 1_100))
            .owners(1_000 + ALLOWED, "s1@4 m1#1 1000");
    assertThat(checker.check(h.build()).violations()).isEmpty();
    h.owners(1_000 + ALLOWED + 300, "s1@4 m1#1 1000");
    assertThat(checker.check(h.build()).violations()).hasSize(1);
  }

  @Test
  void aFailedStartWhoseRowIsKeptIsAViolation() {
    CheckResult r =
        checker.check(
            new Histories()
                .callbackTimeout(2_000)
                .master(
                    "m1",
                    start("m1", 1),
                    callback("starting", "m1", 1, "s1", 4, 1_000),
                    callback("start_failed", "m1", 1, "s1", 4, 1_500))
                .owners(1_500 + ALLOWED - 1, "s1@4 m1#1 1000")
                .owners(1_500 + ALLOWED + 1, "s1@4 m1#1 1000")
                .build());
    assertThat(r.violations()).hasSize(1);
    assertThat(r.violations().get(0).summary())
        .endsWith("its last callback line there: start_failed");
    assertThat(r.violations().get(0).excerpt()).anyMatch(l -> l.startsWith("m1.jsonl:3 "));
  }

  @Test
  void anotherTokenOrIncarnationDoesNotCount() {
    CheckResult r =
        checker.check(
            new Histories()
                .callbackTimeout(2_000)
                .master(
                    "m1",
                    start("m1", 1),
                    callback("started", "m1", 1, "s1", 3, 500),
                    callback("started", "m1", 2, "s1", 4, 600))
                .owners(20_000, "s1@4 m1#1 1000")
                .build());
    assertThat(r.violations()).hasSize(1);
  }

  @Test
  void callbackLinesWrittenAfterTheSnapshotDoNotCount() {
    CheckResult r =
        checker.check(
            new Histories()
                .callbackTimeout(2_000)
                .master("m1", start("m1", 1), callback("started", "m1", 1, "s1", 4, 30_000))
                .owners(20_000, "s1@4 m1#1 1000")
                .build());
    assertThat(r.violations()).hasSize(1);
  }
}
