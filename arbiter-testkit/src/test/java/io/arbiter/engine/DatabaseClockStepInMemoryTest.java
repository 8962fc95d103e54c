package io.arbiter.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.MemberState;
import io.arbiter.engine.InMemoryCluster.Master;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A step of the database's clock (an NTP correction, an operator on the database's host) makes
 * every lease look older at once, while each master's own clock goes on. A master that renewed
 * after the step must not expire an owner that still trusts its own lease: a master that sees the
 * step in its heartbeat (the database's age of its previous renewal against the time it measured
 * itself) holds off expiring others for one lease, in which each victim of the step learns of it at
 * its own next renewal and stops its services.
 */
class DatabaseClockStepInMemoryTest {
  private static final Duration TTL = InMemoryCluster.TTL;

  private final InMemoryCluster cluster = new InMemoryCluster();

  @AfterEach
  void closeAll() {
    cluster.close(); // asserts that no service ever ran on two masters at once
  }

  @Test
  void aMasterThatRenewedAfterAStepDoesNotExpireAnOwnerThatStillTrustsItsLease() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    Master other = cluster.start("b", "svc");
    cluster.await("b to join", () -> other.state() == MemberState.ACTIVE);
    cluster.awaitBalanced(List.of("svc"));
    Master owner = a.running().contains("svc") ? a : other;
    Master renewer = owner == a ? other : a;

    // The owner's last renewal lands 1.5 s before the other's (its renewals are delayed, not
    // failed: the database never hears from it meanwhile), then the database's clock steps 2 s
    // ahead: by the database's clock the owner's lease has run out, by its own it has 1 s left.
    owner.cut();
    cluster.advance(Duration.ofMillis(1500));
    cluster.database.stepClock(Duration.ofSeconds(2));
    Thread.sleep(500); // real time for many renewals and rounds of the other master
    assertThat(renewer.running())
        .as("svc taken by %s while %s still runs it on its own lease", renewer, owner)
        .isEmpty();
    assertThat(owner.running()).containsExactly("svc");

    // The owner hears of it at its next renewal, which fails: it stops its services and rejoins.
    owner.heal();
    cluster.await(owner + " to stop svc", () -> owner.running().isEmpty());
    cluster.advance(TTL.plusMillis(250));
    cluster.awaitBalanced(List.of("svc"));
    assertThat(a.running().contains("svc") ^ other.running().contains("svc")).isTrue();
  }

  @Test
  void aStepSmallerThanEveryLeaseMovesNothing() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    long incarnation = a.incarnation();
    long token = a.cluster().tokenOf("svc").orElseThrow().value();

    cluster.database.stepClock(Duration.ofSeconds(1));
    Thread.sleep(300); // real time for many renewals
    cluster.advance(TTL.plusMillis(250));
    assertThat(a.state()).isEqualTo(MemberState.ACTIVE);
    assertThat(a.incarnation()).isEqualTo(incarnation);
    assertThat(a.cluster().tokenOf("svc").orElseThrow().value()).isEqualTo(token);
  }

  @Test
  void aMasterWhoseLeaseAStepBroughtWithinTheMarginOfRunningOutFencesItself() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    long incarnation = a.incarnation();

    // Its next renewal still lands (the lease has not run out by the database's clock), but by
    // that clock it was within the self-fence margin of running out: another master might have
    // expired it. It stops its services and rejoins.
    cluster.database.stepClock(TTL.minus(a.config.selfFenceMargin()).plusMillis(100));
    cluster.await("a to rejoin", () -> rejoined(a));
    assertThat(a.cluster().member().orElseThrow().incarnation()).isGreaterThan(incarnation);
    assertThat(a.transitions())
        .anySatisfy(t -> assertThat(t).startsWith("ACTIVE->FENCED: the database clock stepped"));
    cluster.await("svc on a again", () -> a.running().contains("svc"));
  }

  @Test
  void aStepPastEveryLeaseFencesEveryMasterAndTheyRejoin() throws Exception {
    Master a = cluster.start("a", "svc");
    Master b = cluster.start("b", "svc");
    cluster.awaitBalanced(List.of("svc"));

    cluster.database.stepClock(TTL.plusSeconds(1));
    cluster.await("both to rejoin as new incarnations", () -> rejoined(a) && rejoined(b));
    cluster.advance(TTL.plusMillis(250));
    cluster.awaitBalanced(List.of("svc"));
  }

  private static boolean rejoined(Master m) {
    return m.state() == MemberState.ACTIVE
        && m.cluster().member().map(id -> id.incarnation() > 1).orElse(false);
  }
}
