package io.arbiter.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MasterHistoryTest {
  @Test
  void eachStartLineBeginsASegmentOfItsOwn() {
    MasterHistory h =
        MasterHistory.parse(
            "m1",
            "m1.jsonl",
            List.of(
                "{\"type\":\"start\",\"member\":\"m1\",\"pid\":10,\"lease_ttl_ms\":3000,"
                    + "\"self_fence_margin_ms\":500,\"nanos\":1,\"wall_ms\":1}",
                "{\"type\":\"join\",\"member\":\"m1\",\"incarnation\":1,\"sent_nanos\":5,"
                    + "\"nanos\":9,\"wall_ms\":2}",
                "{\"type\":\"act\",\"service\":\"s\",\"member\":\"m1\",\"incarnation\":1,"
                    + "\"token\":3,\"nanos\":20,\"wall_ms\":3,\"outcome\":\"ok\"}",
                "{\"type\":\"start\",\"member\":\"m1\",\"pid\":11,\"lease_ttl_ms\":3000,"
                    + "\"self_fence_margin_ms\":500,\"nanos\":1,\"wall_ms\":9}",
                "{\"type\":\"act\",\"service\":\"s\",\"member\":\"m1\",\"incarnation\":2,"
                    + "\"token\":4,\"nanos\":2,\"wall_ms\":10,\"outcome\":\"skipped\"}"));
    assertThat(h.segments()).hasSize(2);
    assertThat(h.segments().get(0).pid()).isEqualTo(10);
    assertThat(h.segments().get(0).leaseTtlMillis()).isEqualTo(3000);
    assertThat(h.segments().get(0).selfFenceMarginMillis()).isEqualTo(500);
    assertThat(h.segments().get(0).events())
        .extracting(MasterHistory.Event::type)
        .containsExactly("join", "act");
    MasterHistory.Event act = h.segments().get(0).events().get(1);
    assertThat(act.line()).isEqualTo(3);
    assertThat(act.token()).isEqualTo(3);
    assertThat(act.actedForReal()).isTrue();
    assertThat(h.segments().get(1).events().get(0).actedForReal()).isFalse();
    assertThat(h.actsByOutcome()).containsEntry("ok", 1L).containsEntry("skipped", 1L);
    assertThat(h.unreadableLines()).isZero();
  }

  @Test
  void aLineTornByKillDashNineIsSkippedAndTheNextStartIsStillFound() {
    MasterHistory h =
        MasterHistory.parse(
            "m1",
            "m1.jsonl",
            List.of(
                "{\"type\":\"start\",\"member\":\"m1\",\"pid\":10,\"lease_ttl_ms\":3000,"
                    + "\"self_fence_margin_ms\":500,\"nanos\":1,\"wall_ms\":1}",
                // the killed master's half line, then its successor's start on the same line
                "{\"type\":\"act\",\"service\":\"s\",\"mem{\"type\":\"start\",\"member\":\"m1\","
                    + "\"pid\":11,\"lease_ttl_ms\":3000,\"self_fence_margin_ms\":500,"
                    + "\"nanos\":1,\"wall_ms\":9}",
                "{\"type\":\"renew\",\"member\":\"m1\",\"incarnation\":2,\"sent_nanos\":5,"
                    + "\"nanos\":6,\"wall_ms\":10}",
                "{\"type\":\"act\",\"service\":\"s\",\"memb"));
    assertThat(h.segments()).extracting(MasterHistory.Segment::pid).containsExactly(10L, 11L);
    assertThat(h.segments().get(1).events()).hasSize(1);
    assertThat(h.unreadableLines()).isEqualTo(1);
  }
}
