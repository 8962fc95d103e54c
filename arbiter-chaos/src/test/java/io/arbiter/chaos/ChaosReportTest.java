package io.arbiter.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.chaos.check.CheckResult;
import io.arbiter.chaos.check.Checker;
import io.arbiter.chaos.check.LivenessChecker;
import io.arbiter.chaos.check.SafetyChecker;
import io.arbiter.chaos.check.SelfFencingChecker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChaosReportTest {
  @Test
  void theJsonHasTheKeysScriptsRelyOnAndAViolationFailsTheRun() {
    RunHistory history =
        new Histories()
            .services("s1")
            .tick("s1", 4, "m1#1", 1_000)
            .tick("s1", 5, "m2#1", 5_000)
            .tick("s1", 4, "m1#1", 5_100)
            .fault(FaultKind.PAUSE, "m1", 900, 5_050, Map.of("s1", 4L))
            .end(5_050, 5_200, "s1")
            .build();
    List<Checker> checkers =
        List.of(new SafetyChecker(), new LivenessChecker(), new SelfFencingChecker());
    List<CheckResult> results = checkers.stream().map(c -> c.check(history)).toList();
    ChaosReport report =
        new ChaosReport(
            ChaosOptions.builder().seed(99).build(),
            "embedded PostgreSQL",
            Path.of("/tmp/x"),
            history.faults(),
            history.ticks().size(),
            results);

    assertThat(report.passed()).isFalse();
    assertThat(report.violations("safety")).hasSize(1);
    assertThat(report.json())
        .containsEntry("seed", 99L)
        .containsEntry("faults", 1)
        .containsEntry("violations", 1)
        .containsEntry("accepted_writes", 3L)
        .containsKeys("max_unowned_ms", "recovery_p99_ms", "faults_by_kind", "violations_by_check");
    assertThat(report.summary())
        .contains("faults:     1 {pause=1}")
        .contains("VIOLATION [safety] s1: 1 write(s) of m1#1 with stale token 4")
        .contains("result: FAIL, 1 violation(s); reproduce with --seed 99");
  }
}
