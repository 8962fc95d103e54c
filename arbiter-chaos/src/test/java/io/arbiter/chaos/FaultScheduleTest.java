package io.arbiter.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.InvalidConfigException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static final Set<FaultKind> ALL = EnumSet.allOf(FaultKind.class);

  @Test
  void theSameSeedGivesTheSameFaults() {
    List<Fault> a = new FaultSchedule(42, ALL, 5, TTL).next(300);
    List<Fault> b = new FaultSchedule(42, ALL, 5, TTL).next(300);
    assertThat(a).isEqualTo(b);
    // The order the kinds are given in does not matter, only which they are.
    List<Fault> c =
        new FaultSchedule(
                42,
                List.of(
                    FaultKind.CLOCK,
                    FaultKind.FAILOVER,
                    FaultKind.DBRESTART,
                    FaultKind.LINK,
                    FaultKind.READONLY,
                    FaultKind.LOSTACK,
                    FaultKind.PAUSE,
                    FaultKind.KILL),
                5,
                TTL)
            .next(300);
    assertThat(c).isEqualTo(a);
  }

  @Test
  void anotherSeedGivesOtherFaults() {
    assertThat(new FaultSchedule(1, ALL, 5, TTL).next(50))
        .isNotEqualTo(new FaultSchedule(2, ALL, 5, TTL).next(50));
  }

  @Test
  void everyKindTargetAndDurationIsWithinItsRules() {
    List<Fault> faults = new FaultSchedule(7, ALL, 5, TTL).next(2_000);
    assertThat(faults).extracting(Fault::kind).containsAll(ALL);
    for (Fault f : faults) {
      long ms = f.duration().toMillis();
      switch (f.kind()) {
        case KILL -> assertThat(ms).isBetween(500L, 2_500L);
        case PAUSE -> assertThat(ms).as("a pause outlasts the lease").isGreaterThan(3_000L);
        case LINK -> assertThat(f.linkMode()).isNotNull();
        case DBRESTART -> assertThat(f.target().isDatabase()).isTrue();
        case READONLY -> {
          assertThat(f.target().isDatabase()).isTrue();
          assertThat(ms).as("read-only from a second to past the lease").isBetween(1_000L, 6_000L);
        }
        case FAILOVER -> {
          assertThat(f.target().isDatabase()).isTrue();
          assertThat(ms)
              .as("held past a lease, so the rebuild comes after the recovery")
              .isBetween(5_000L, 7_000L);
        }
        case LOSTACK -> {
          assertThat(f.target().isDatabase()).isFalse();
          assertThat(f.lostCommits()).isPositive();
          assertThat(f.lostCommits() <= 3 || f.lostCommits() == Integer.MAX_VALUE).isTrue();
          assertThat(f.moves()).isBetween(1, 2);
          assertThat(ms).isBetween(500L, 4_000L);
        }
        case CLOCK -> {
          assertThat(f.clockShift().abs().toMillis()).isBetween(1_000L, 11_000L);
          if (f.linkMode() != null) {
            assertThat(f.clockShift().isNegative()).as("a step back while cut off").isTrue();
            assertThat(ms).isGreaterThan(3_000L);
          }
        }
      }
      if (f.kind().targetsMaster()) {
        assertThat(f.target().isBusiest() || f.target().master() <= 5).isTrue();
      }
      assertThat(f.pauseAfter().toMillis()).isBetween(500L, 2_000L);
      if (f.kind() != FaultKind.LOSTACK) {
        assertThat(f.lostCommits()).isZero();
        assertThat(f.moves()).isZero();
      }
    }
    assertThat(faults).extracting(Fault::number).startsWith(1, 2, 3);
  }

  @Test
  void theDatabaseFaultsAreDrawnWithTheirOwnTarget() {
    List<Fault> faults =
        new FaultSchedule(11, EnumSet.of(FaultKind.READONLY, FaultKind.LOSTACK), 5, TTL).next(200);
    assertThat(faults).extracting(Fault::kind).contains(FaultKind.READONLY, FaultKind.LOSTACK);
    assertThat(faults)
        .filteredOn(f -> f.kind() == FaultKind.READONLY)
        .allMatch(f -> f.target().isDatabase());
    assertThat(faults)
        .filteredOn(f -> f.kind() == FaultKind.LOSTACK)
        .extracting(Fault::lostCommits)
        .contains(Integer.MAX_VALUE)
        .anyMatch(n -> n <= 3);
  }

  @Test
  void onlyTheRequestedKindsAreDrawn() {
    assertThat(new FaultSchedule(3, EnumSet.of(FaultKind.PAUSE), 3, TTL).next(100))
        .extracting(Fault::kind)
        .containsOnly(FaultKind.PAUSE);
  }

  @Test
  void faultKindsAreParsedByTheirNames() {
    assertThat(FaultKind.parseList("kill, pause,link"))
        .containsExactlyInAnyOrder(FaultKind.KILL, FaultKind.PAUSE, FaultKind.LINK);
    assertThat(FaultKind.parseList("all")).isEqualTo(EnumSet.allOf(FaultKind.class));
    assertThatThrownBy(() -> FaultKind.parseList("kill,meteor"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("meteor")
        .hasMessageContaining("kill,pause,link,dbrestart,clock,lostack,readonly");
  }
}
