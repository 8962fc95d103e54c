package io.arbiter.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.chaos.FaultKind;
import io.arbiter.chaos.Histories;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LivenessCheckerTest {
  private final LivenessChecker checker = new LivenessChecker();

  @Test
  void servicesThatMoveAndKeepWritingAreLiveAndTheirRecoveryIsMeasured() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1", "s2")
                // kill -9 of m1 at 10000 (restarted at 11000): s1 moves to m2 at 12800
                .ticking("s1", 1, "m1#1", 0, 9_950)
                .ticking("s1", 2, "m2#1", 12_800, 30_000)
                .ticking("s2", 1, "m2#1", 0, 30_000)
                .fault(FaultKind.KILL, "m1", 10_000, 11_000, Map.of("s1", 1L))
                // a short link cut of m2 (1000 ms): nothing moves, s2 writes again after the heal
                .fault(FaultKind.LINK, "m2", 20_000, 21_000, Map.of("s1", 2L, "s2", 1L))
                .end(25_000, 30_000, "s1", "s2")
                .build());
    assertThat(r.violations()).isEmpty();
    assertThat(r.figures())
        .containsEntry("max_unowned_ms", 2_900L) // s1: last at 9900, next at 12800
        .containsEntry("recovery_max_ms", 2_800L);
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> byKind =
        (Map<String, Map<String, Object>>) r.figures().get("recovery_by_kind");
    assertThat(byKind.get("kill")).containsEntry("p99_ms", 2_800L).containsEntry("samples", 1);
    // s1 and s2 both wrote at 21050, the first tick after the heal
    assertThat(byKind.get("link")).containsEntry("p99_ms", 1_050L);
  }

  @Test
  void aDatabaseRestartIsTimedFromWhenTheDatabaseIsBack() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .ticking("s1", 1, "m1#1", 0, 4_950)
                .ticking("s1", 2, "m1#2", 9_000, 20_000)
                .fault(FaultKind.DBRESTART, "database", 5_000, 7_000, Map.of("s1", 1L))
                .end(10_000, 20_000, "s1")
                .build());
    assertThat(r.figures()).containsEntry("recovery_p99_ms", 2_000L);
  }

  @Test
  void aServiceWithNoLiveOwnerAtTheEndIsAViolation() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1", "s2")
                .ticking("s1", 1, "m1#1", 0, 10_000)
                .ticking("s2", 1, "m1#1", 0, 10_000)
                .end(5_000, 10_000, "s1")
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(
            v -> assertThat(v.summary()).isEqualTo("s2 had no live owner at the end of the run"));
  }

  @Test
  void aServiceThatDoesNotWriteWithinTtlPlusOneSecondOfTheFinalHealIsAViolation() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1", "s2")
                .ticking("s1", 1, "m1#1", 0, 20_000)
                .ticking("s2", 1, "m1#1", 0, 4_000)
                .ticking("s2", 2, "m2#1", 9_500, 20_000) // 4500 ms after the heal at 5000
                .fault(FaultKind.PAUSE, "m1", 4_000, 5_000, Map.of("s2", 1L))
                .end(5_000, 20_000, "s1", "s2")
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.check()).isEqualTo("liveness");
              assertThat(v.summary())
                  .isEqualTo("s2 did not write within lease TTL + 1 s (4000 ms) of the final heal");
              assertThat(v.excerpt())
                  .anySatisfy(l -> assertThat(l).contains("first write after it: tick"));
            });
    assertThat(r.figures()).containsEntry("max_unowned_ms", 5_600L); // 3900 -> 9500
  }

  @Test
  void aServiceThatStopsWritingBeforeTheEndIsAViolation() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .ticking("s1", 1, "m1#1", 0, 6_000)
                .end(5_000, 20_000, "s1")
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.summary()).startsWith("s1 stopped writing"));
  }

  @Test
  void aFaultAfterWhichAServiceNeverWritesAgainIsCountedUnrecovered() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .ticking("s1", 1, "m1#1", 0, 6_000)
                .fault(FaultKind.KILL, "m1", 6_100, 7_000, Map.of("s1", 1L))
                .end(7_000, 20_000)
                .build());
    assertThat(r.figures().get("unrecovered")).asList().containsExactly("#1 kill m1: s1");
    assertThat(r.violations()).hasSize(2); // no live owner, no write after the heal
  }
}
