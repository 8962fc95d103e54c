package io.arbiter.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.chaos.FaultKind;
import io.arbiter.chaos.Histories;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafetyCheckerTest {
  private final SafetyChecker checker = new SafetyChecker();

  @Test
  void handoversWithRisingTokensAreSafe() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1", "s2")
                .ticking("s1", 1, "m1#1", 0, 3_000)
                .ticking("s2", 1, "m1#1", 0, 3_000)
                .ticking("s1", 2, "m2#1", 6_000, 9_000)
                .ticking("s1", 3, "m1#2", 9_100, 12_000) // the first master, back as #2
                .build());
    assertThat(r.violations()).isEmpty();
    assertThat(r.figures()).containsEntry("accepted_writes", 83);
  }

  @Test
  void aStaleTokenAcceptedAfterANewerOneIsAViolationWithTheTicksThatShowIt() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .tick("s1", 4, "m1#1", 1_000)
                .tick("s1", 5, "m2#1", 5_000)
                .tick("s1", 4, "m1#1", 5_100) // m1 woke from SIGSTOP and its write got through
                .tick("s1", 4, "m1#1", 5_200)
                .fault(FaultKind.PAUSE, "m1", 900, 5_050, Map.of("s1", 4L))
                .build());
    assertThat(r.violations()).hasSize(1);
    Violation v = r.violations().get(0);
    assertThat(v.check()).isEqualTo("safety");
    assertThat(v.summary())
        .contains("s1", "2 write(s) of m1#1 with stale token 4 accepted after token 5 of m2#1");
    assertThat(v.excerpt())
        .anySatisfy(l -> assertThat(l).contains("accepted first: tick 2 s1 token 5 by m2#1"))
        .anySatisfy(l -> assertThat(l).contains("then accepted: tick 3 s1 token 4 by m1#1"));
  }

  @Test
  void oneTokenWrittenByTwoMastersIsAViolation() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .tick("s1", 7, "m1#1", 1_000)
                .tick("s1", 7, "m2#3", 1_100)
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.summary()).contains("token 7 used by [m1#1, m2#3]"));
  }

  @Test
  void anOlderGrantStillWritingAfterTheNextGrantBeganIsAViolation() {
    // In id order the tokens rise, but by the database clock the two owners' writes interleave.
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .tick("s1", 1, "m1#1", 1_000)
                .tick("s1", 1, "m1#1", 2_500)
                .tick("s1", 2, "m2#1", 2_000)
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.summary())
                    .contains("m1#1 (token 1) was still writing 500 ms after m2#1 (token 2)"));
  }

  @Test
  void whatOnlyTheSqlCheckFoundIsReportedToo() {
    CheckResult r =
        checker.check(
            new Histories()
                .services("s1")
                .tick("s1", 1, "m1#1", 1_000)
                .sqlViolation("s1", "token 1 was used by two masters: m1#1 and m9#9")
                .build());
    assertThat(r.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.summary()).contains("found by the SQL check only"));
  }
}
