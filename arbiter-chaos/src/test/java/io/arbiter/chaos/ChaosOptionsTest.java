package io.arbiter.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.InvalidConfigException;
import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class ChaosOptionsTest {
  @Test
  void defaultsAreTheDocumentedOnesAndARandomSeedIsDrawn() {
    ChaosOptions o = ChaosOptions.builder().build();
    assertThat(o.embedded()).isTrue();
    assertThat(o.masters()).isEqualTo(5);
    assertThat(o.services()).isEqualTo(12);
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(60));
    assertThat(o.faults()).isEqualTo(EnumSet.allOf(FaultKind.class));
    assertThat(o.seed()).isNotNegative();
  }

  @Test
  void valuesThatCannotMakeARunAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> ChaosOptions.builder().masters(1).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("--masters");
    assertThatThrownBy(() -> ChaosOptions.builder().faults(EnumSet.noneOf(FaultKind.class)).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("--faults");
    assertThatThrownBy(() -> ChaosOptions.builder().duration(Duration.ZERO).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("--duration");
    assertThatThrownBy(() -> ChaosOptions.builder().plantBug("typo-fence").build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("--plant-bug")
        .hasMessageContaining("skip-fence");
  }
}
