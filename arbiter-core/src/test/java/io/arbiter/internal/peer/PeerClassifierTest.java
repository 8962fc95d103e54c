package io.arbiter.internal.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.MemberId;
import io.arbiter.peer.PeerClassification;
import io.arbiter.peer.PeerDirectory;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.peer.PeerView;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The classification rules on a clock driven by hand (milliseconds as nanoseconds below). */
class PeerClassifierTest {
  private static final long MS = 1_000_000L;
  private final PeerLinkConfig config =
      PeerLinkConfig.builder(PeerLinkTest.SECRET)
          .pingInterval(Duration.ofMillis(200))
          .linkTimeout(Duration.ofSeconds(1))
          .databaseStaleAfter(Duration.ofSeconds(2))
          .forgetAfter(Duration.ofSeconds(60))
          .build();
  private final PeerClassifier classifier = new PeerClassifier(config, "me");
  private final Map<String, PeerClassifier.Heard> heard = new HashMap<>();
  private final Map<String, Long> leaving = new HashMap<>();

  private static PeerDirectory.Member row(boolean active, long leftMs, long sinceRenewalMs) {
    return new PeerDirectory.Member(
        "b", 1, Optional.of("127.0.0.1:1"), active, leftMs, sinceRenewalMs);
  }

  private List<PeerClassifier.Change> at(long nowMs, long readAtMs, PeerDirectory.Member b) {
    PeerDirectory.Member me =
        new PeerDirectory.Member("me", 1, Optional.of("127.0.0.1:2"), true, 3000, 0);
    return classifier.classify(
        new PeerDirectory.Snapshot(readAtMs * MS, List.of(me, b)), nowMs * MS, heard, leaving);
  }

  private PeerClassification b() {
    return classifier.views().stream()
        .filter(v -> v.peer().name().equals("b"))
        .findFirst()
        .map(PeerView::classification)
        .orElse(null);
  }

  private void pong(long atMs) {
    heard.put("b", new PeerClassifier.Heard(new MemberId("b", 1), atMs * MS, MS));
  }

  @Test
  void aNewPeerIsNotJudgedOnTheLinkBeforeItCouldAnswer() {
    at(1000, 1000, row(true, 3000, 100));
    assertThat(b()).as("within two link timeouts of first sight").isNull();
    at(2900, 2900, row(true, 3000, 100));
    assertThat(b()).isNull();
    List<PeerClassifier.Change> changes = at(3100, 3100, row(true, 3000, 100));
    assertThat(b()).isEqualTo(PeerClassification.PARTITIONED_FROM_ME);
    assertThat(changes).hasSize(1);
    assertThat(changes.get(0).before()).isNull();
  }

  @Test
  void notRenewingIsJudgedOnTheFactsAsReadNeverExtrapolated() {
    pong(1000);
    at(1000, 1000, row(true, 2500, 500));
    assertThat(b()).isEqualTo(PeerClassification.ALIVE);
    // 1.9 s after a read that saw a renewal 0.5 s old: extrapolating would say 2.4 s, stale; the
    // read says nothing about since, so B is still taken as renewing.
    pong(2900);
    at(2900, 1000, row(true, 2500, 500));
    assertThat(b()).isEqualTo(PeerClassification.ALIVE);
    // A fresh read that shows the renewal 2.1 s old: cut off.
    at(3000, 3000, row(true, 400, 2100));
    assertThat(b()).isEqualTo(PeerClassification.CUT_OFF_FROM_DATABASE);
    // My own read is now older than the bound: I judge nobody.
    pong(5100);
    assertThat(at(5100, 3000, row(true, 400, 2100))).hasSize(1);
    assertThat(b()).isEqualTo(PeerClassification.UNKNOWN);
    assertThat(classifier.views().get(0).databaseLeaseLeft()).isEmpty();
  }

  @Test
  void aLeavingPeerGoesFromAliveToDeadWithoutAPartitionBetween() {
    pong(1000);
    at(1000, 1000, row(true, 2500, 100));
    assertThat(b()).isEqualTo(PeerClassification.ALIVE);
    leaving.put("b", 1L);
    at(2500, 2500, row(true, 2500, 100)); // link silent, row still ACTIVE
    assertThat(b()).isEqualTo(PeerClassification.ALIVE);
    at(2700, 2700, row(false, -10, 300)); // marked STOPPED
    assertThat(b()).isEqualTo(PeerClassification.DEAD);
  }

  @Test
  void theSinceFieldAndForgettingTheLongGone() {
    pong(1000);
    at(1000, 1000, row(true, 2500, 100));
    pong(1500);
    at(1500, 1500, row(true, 2500, 100));
    assertThat(classifier.views().get(0).since()).isEqualTo(Duration.ofMillis(500));
    at(3000, 3000, row(false, -100, 2600));
    assertThat(b()).isEqualTo(PeerClassification.DEAD);
    assertThat(classifier.views().get(0).since()).isZero();
    at(70_000, 70_000, row(false, -60_000, 61_000));
    assertThat(classifier.views()).as("forgotten after forgetAfter").isEmpty();
  }
}
