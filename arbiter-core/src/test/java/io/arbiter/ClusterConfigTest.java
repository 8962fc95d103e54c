package io.arbiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {

  @Test
  void defaultsAreAShortLeaseRenewedThreeTimesPerTtl() {
    ClusterConfig c = ClusterConfig.builder("master-1").build();
    assertThat(c.leaseTtl()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.renewInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.selfFenceMargin()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.leaseTtl()).isLessThanOrEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void theReadOnlyStartupLimitDefaultsToAMinuteAndMustBePositive() {
    assertThat(ClusterConfig.builder("m").build().readOnlyStartupLimit())
        .isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(() -> ClusterConfig.builder("m").readOnlyStartupLimit(Duration.ZERO).build())
        .isInstanceOfSatisfying(
            InvalidConfigException.class,
            e -> assertThat(e.field()).isEqualTo("readOnlyStartupLimit"));
    assertThatThrownBy(() -> ClusterConfig.builder("m").readOnlyStartupLimit(null).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("readOnlyStartupLimit");
  }

  @Test
  void theRenewIntervalFollowsTheTtlUnlessSet() {
    ClusterConfig c = ClusterConfig.builder("m").leaseTtl(Duration.ofSeconds(6)).build();
    assertThat(c.renewInterval()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aTtlNotLargerThanTheRenewIntervalIsRefusedNamingTheField() {
    assertThatThrownBy(
            () ->
                ClusterConfig.builder("m")
                    .leaseTtl(Duration.ofSeconds(2))
                    .renewInterval(Duration.ofSeconds(2))
                    .build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("leaseTtl")
        .hasMessageContaining("renewInterval")
        .satisfies(e -> assertThat(((InvalidConfigException) e).field()).isEqualTo("leaseTtl"));
  }

  @Test
  void theMarginMustLeaveRoomForARenewal() {
    assertThatThrownBy(
            () ->
                ClusterConfig.builder("m")
                    .leaseTtl(Duration.ofSeconds(3))
                    .renewInterval(Duration.ofSeconds(2))
                    .selfFenceMargin(Duration.ofSeconds(1))
                    .build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("selfFenceMargin");
  }

  @Test
  void emptyTooLongAndOddNamesAreRefused() {
    assertThatThrownBy(() -> ClusterConfig.builder("").build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("memberName")
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> ClusterConfig.builder("x".repeat(65)).build())
        .hasMessageContaining("at most 64 characters");
    assertThatThrownBy(() -> ClusterConfig.builder("a b").build())
        .hasMessageContaining("letters, digits");
    assertThat(ClusterConfig.builder("x".repeat(64)).build().memberName()).hasSize(64);
  }

  @Test
  void negativeOrZeroDurationsAreRefused() {
    assertThatThrownBy(() -> ClusterConfig.builder("m").leaseTtl(Duration.ZERO).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("leaseTtl");
    assertThatThrownBy(
            () -> ClusterConfig.builder("m").claimPollInterval(Duration.ofMillis(-1)).build())
        .hasMessageContaining("claimPollInterval");
  }
}
