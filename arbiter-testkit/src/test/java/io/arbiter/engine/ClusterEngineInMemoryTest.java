package io.arbiter.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.ClusteredService;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.MemberNameInUseException;
import io.arbiter.MemberState;
import io.arbiter.ServiceContext;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.engine.InMemoryCluster.Master;
import io.arbiter.testkit.InMemoryClusterStore;
import io.arbiter.testkit.RecordingService;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine (Cluster) on the in-memory store and a manual clock: clean handoff, self-fencing when
 * the database is cut off or hangs, rejoining, a short outage, start-up without a database, a
 * database that refuses the master, failed starts, name conflicts, a crash, a rejected write, and
 * the listener's state changes. The same behaviours on a real database, with faults on the wire,
 * are in arbiter-jdbc's ClusterEngineTest.
 *
 * <p>The clock moves only when a test says so: whatever happens without {@code advance} did not
 * wait for a lease to run out.
 */
class ClusterEngineInMemoryTest {
  private static final Duration TTL = InMemoryCluster.TTL;

  /** A shorter lease, where a master sleeps the lease in real time (a name conflict). */
  private static final Duration SHORT_TTL = Duration.ofMillis(600);

  private final InMemoryCluster cluster = new InMemoryCluster();

  @AfterEach
  void closeAll() {
    cluster.close();
  }

  @Test
  void aServiceRunsOnOneMemberAndMovesAtOnceOnCleanStop() throws Exception {
    Master a = cluster.start("a", "svc");
    Master b = cluster.start("b", "svc");
    cluster.awaitBalanced(List.of("svc"));
    Master runner = runnerOf("svc", a, b);
    Master other = runner == a ? b : a;
    long token = runner.cluster().tokenOf("svc").orElseThrow().value();

    runner.cluster().close();
    cluster.await("svc to move to " + other, () -> other.running().contains("svc"));
    assertThat(other.cluster().tokenOf("svc").orElseThrow().value()).isGreaterThan(token);
    assertThat(runner.state()).isEqualTo(MemberState.STOPPED);
    assertThat(runner.transitions())
        .containsExactly("STARTING->ACTIVE: joined", "ACTIVE->STOPPED: closed: left the cluster");
  }

  @Test
  void aMemberCutOffFromTheDatabaseStopsItsServicesBeforeAnotherStartsThemAndRejoins()
      throws Exception {
    Master a = cluster.start("a", "svc");
    Master b = cluster.start("b", "svc");
    cluster.awaitBalanced(List.of("svc"));
    Master cut = runnerOf("svc", a, b);
    Master other = cut == a ? b : a;
    long incarnation = cut.incarnation();

    cut.cut();
    // Suspect, not fenced, while its lease holds on its own clock: the service keeps running.
    cluster.advance(TTL.minus(cut.config.selfFenceMargin()).minusMillis(300));
    cluster.await("a failed renewal", () -> cut.state() == MemberState.SUSPECT);
    assertThat(cut.running()).containsExactly("svc");
    assertThat(other.running()).isEmpty();

    cluster.advance(Duration.ofMillis(300).plus(cut.config.selfFenceMargin()).plusMillis(250));
    cluster.await("svc to fail over to " + other, () -> other.running().contains("svc"));
    assertThat(cut.running()).isEmpty();
    assertThat(cut.state()).isEqualTo(MemberState.FENCED);
    RecordingService.Ledger.Event stop = firstEvent("svc", cut.name(), false);
    RecordingService.Ledger.Event start = firstEvent("svc", other.name(), true);
    assertThat(stop.nanos())
        .as("stopped on the cut master before it started on the other")
        .isLessThan(start.nanos());

    cut.heal();
    cluster.await("the cut master to rejoin", () -> cut.state() == MemberState.ACTIVE);
    assertThat(cut.incarnation()).as("a new incarnation").isGreaterThan(incarnation);
    List<String> heard = cut.transitions();
    assertThat(heard.get(0)).isEqualTo("STARTING->ACTIVE: joined");
    assertThat(heard.get(1)).startsWith("ACTIVE->SUSPECT: lease renewal failed: ");
    assertThat(heard.get(2)).startsWith("SUSPECT->FENCED: no successful renewal for ");
    assertThat(heard.get(heard.size() - 1))
        .isEqualTo("FENCED->ACTIVE: rejoined as a new incarnation");
    assertThat(cut.changes.get(2).incarnation().orElseThrow().incarnation()).isEqualTo(incarnation);
    // Back in, it may get the service again (a clean handoff: the ledger checks there is no
    // overlap); either way exactly one of them runs it.
    cluster.awaitBalanced(List.of("svc"));
    assertThat(a.running().contains("svc") ^ b.running().contains("svc")).isTrue();
  }

  @Test
  void aMemberWhoseDatabaseHangsIsFencedByItsWatchdogAndRejoinsWhenItAnswers() throws Exception {
    Master a = cluster.start("a", "svc");
    Master b = cluster.start("b", "svc");
    cluster.awaitBalanced(List.of("svc"));
    Master hung = runnerOf("svc", a, b);
    Master other = hung == a ? b : a;

    hung.hang();
    cluster.advance(TTL.plusMillis(250));
    cluster.await("svc to fail over to " + other, () -> other.running().contains("svc"));
    // The renewal never came back, so the master never saw it fail: the watchdog, which does not
    // touch the database, fenced it on its own clock.
    assertThat(hung.transitions().get(1)).startsWith("ACTIVE->FENCED: no successful renewal for ");

    hung.heal();
    cluster.await("the hung master to rejoin", () -> hung.state() == MemberState.ACTIVE);
    assertThat(hung.transitions().get(hung.transitions().size() - 1))
        .isEqualTo("FENCED->ACTIVE: rejoined as a new incarnation");
  }

  @Test
  void anOutageShorterThanTheLeaseLeavesTheServicesWhereTheyAre() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    long incarnation = a.incarnation();
    long token = a.cluster().tokenOf("svc").orElseThrow().value();

    a.cut();
    cluster.await("a failed renewal", () -> a.state() == MemberState.SUSPECT);
    cluster.advance(Duration.ofSeconds(1));
    a.heal();
    cluster.await("a to renew again", () -> a.state() == MemberState.ACTIVE);

    assertThat(a.incarnation()).isEqualTo(incarnation);
    assertThat(a.cluster().tokenOf("svc").orElseThrow().value()).isEqualTo(token);
    assertThat(cluster.ledger.events()).as("starts and stops").hasSize(1);
    assertThat(a.transitions())
        .hasSize(3)
        .startsWith("STARTING->ACTIVE: joined")
        .endsWith("SUSPECT->ACTIVE: the database answers again");
  }

  @Test
  void aCrashedMastersServicesMoveOnlyWhenItsLeaseRunsOut() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    Master b = cluster.start("b", "svc");
    cluster.await("b to join", () -> b.state() == MemberState.ACTIVE);
    cluster.awaitBalanced(List.of("svc"));
    Master crashed = runnerOf("svc", a, b);
    Master other = crashed == a ? b : a;

    // A crash, as the others see it: no leave, no more renewals (close() cannot reach the
    // database, so it stops the services and gives up).
    crashed.cut();
    crashed.cluster().close();
    Thread.sleep(200); // real time passes, the clock does not: the lease has not run out
    assertThat(other.running()).isEmpty();
    assertThat(cluster.database.currentGrant("svc").orElseThrow().holder().name())
        .isEqualTo(crashed.name());

    cluster.advance(TTL.plusMillis(250));
    cluster.await("svc to fail over to " + other, () -> other.running().contains("svc"));
    assertThat(cluster.database.status().members())
        .filteredOn(m -> m.name().equals(crashed.name()))
        .singleElement()
        .satisfies(m -> assertThat(m.state()).isEqualTo("EXPIRED"));
  }

  @Test
  void aDatabaseDownAtStartIsRetriedAndNothingIsClaimedUntilItAnswers() throws Exception {
    Master a =
        cluster.build(InMemoryCluster.config("a"), b -> b.service("svc", cluster.recorded()));
    a.cut();
    a.start();
    assertThat(a.cluster().awaitActive(Duration.ofMillis(300))).isFalse();
    assertThat(a.state()).isEqualTo(MemberState.STARTING);
    assertThat(cluster.database.status().members()).isEmpty();

    a.heal();
    assertThat(a.cluster().awaitActive(InMemoryCluster.SETTLE)).isTrue();
    cluster.await("svc on a", () -> a.running().contains("svc"));
  }

  @Test
  void aDatabaseThatRefusesTheMasterForGoodFailsItWithTheReason() {
    Master a =
        cluster.build(InMemoryCluster.config("a"), b -> b.service("svc", cluster.recorded()));
    a.connection.fault(InMemoryClusterStore.Fault.REFUSED);
    a.start();
    cluster.await("a to fail", () -> a.state() == MemberState.FAILED);
    assertThat(a.cluster().failure().orElseThrow())
        .isInstanceOf(StoreMisconfiguredException.class)
        .hasMessageContaining("refused the credentials");
    assertThat(a.transitions()).singleElement().asString().startsWith("STARTING->FAILED: ");
    assertThat(a.running()).isEmpty();
  }

  @Test
  void aServiceThatFailsToStartIsReleasedForAnotherMember() throws Exception {
    Master a =
        cluster.start(
            InMemoryCluster.config("a"),
            b -> b.service("svc", new RecordingService(cluster.ledger, true)));
    cluster.await(
        "a's failed start",
        () ->
            cluster.database.facts().services().stream()
                .anyMatch(s -> s.startFailedBy().isPresent()));
    Master b = cluster.start("b", "svc");
    cluster.await("svc on b", () -> b.running().contains("svc"));
    assertThat(a.running()).isEmpty();
    assertThat(cluster.database.facts().services().get(0).startFailedBy())
        .contains(a.cluster().member().orElseThrow());
  }

  @Test
  void aServiceThatFailsToStartOnTheOnlyMasterIsTriedAgainAfterItsBackoff() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    RecordingService inner = new RecordingService(cluster.ledger);
    cluster.start(
        InMemoryCluster.config("solo"),
        b ->
            b.service(
                "flaky",
                new ClusteredService() {
                  @Override
                  public void start(ServiceContext context) throws Exception {
                    if (attempts.incrementAndGet() == 1) {
                      throw new IllegalStateException("first start fails");
                    }
                    inner.start(context);
                  }

                  @Override
                  public void stop(ServiceContext context) {
                    inner.stop(context);
                  }
                }));
    cluster.await("the first attempt", () -> attempts.get() == 1);
    Thread.sleep(300); // the backoff is on the clock, which stands still
    assertThat(attempts.get()).isEqualTo(1);

    cluster.advance(Duration.ofSeconds(5));
    cluster.await("flaky to run", () -> cluster.ledger.runningOn("flaky").isPresent());
    assertThat(attempts.get()).isEqualTo(2);
  }

  @Test
  void aSecondLiveMasterWithTheSameNameFailsWithAClearError() {
    Master first = cluster.start(InMemoryCluster.config("same").leaseTtl(SHORT_TTL), b -> {});
    cluster.await("the first to join", () -> first.state() == MemberState.ACTIVE);
    Master second = cluster.start(InMemoryCluster.config("same").leaseTtl(SHORT_TTL), b -> {});
    // A conflict is waited out for two leases (a restart after a crash), then it is an error.
    advanceUntil(() -> second.state() == MemberState.FAILED, SHORT_TTL);
    assertThat(second.cluster().failure().orElseThrow())
        .isInstanceOf(MemberNameInUseException.class)
        .hasMessageContaining("same")
        .hasMessageContaining("--name");
    assertThat(second.transitions()).singleElement().asString().startsWith("STARTING->FAILED: ");
    assertThat(first.state()).isEqualTo(MemberState.ACTIVE);
  }

  @Test
  void aRestartAfterACrashWaitsForTheOldLeaseThenJoinsAsANewIncarnation() {
    Master crashed =
        cluster.start(
            InMemoryCluster.config("m").leaseTtl(SHORT_TTL),
            b -> b.service("svc", cluster.recorded()));
    cluster.await("svc on m", () -> crashed.running().contains("svc"));
    long incarnation = crashed.incarnation();
    long token = crashed.cluster().tokenOf("svc").orElseThrow().value();
    crashed.cut();

    Master restarted =
        cluster.start(
            InMemoryCluster.config("m").leaseTtl(SHORT_TTL),
            b -> b.service("svc", cluster.recorded()));
    advanceUntil(() -> restarted.state() == MemberState.ACTIVE, SHORT_TTL.dividedBy(2));
    assertThat(restarted.incarnation()).isGreaterThan(incarnation);
    cluster.await("svc on the restarted m", () -> restarted.running().contains("svc"));
    assertThat(restarted.cluster().tokenOf("svc").orElseThrow().value()).isGreaterThan(token);
    crashed.cluster().close(); // before it could rejoin and find its name taken
  }

  @Test
  void aServiceWhoseWriteIsRejectedIsStoppedAndItsGrantReleased() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    ServiceContext context = cluster.ledger.running("svc").orElseThrow();
    long token = context.token().value();

    context.fencingRejected(
        new FencingTokenRejectedException(context.token(), token + 1, "elsewhere#1"));
    // Stopped and released; the balancer still gives it to a, which claims it again.
    cluster.await(
        "svc to run again under a newer token",
        () -> cluster.ledger.running("svc").map(c -> c.token().value() > token).orElse(false));
    assertThat(cluster.ledger.events())
        .extracting(e -> (e.start() ? "start@" : "stop@") + e.token())
        .containsExactly("start@" + token, "stop@" + token, "start@" + (token + 1));
  }

  @Test
  void aRejectionReportedAfterTheMasterClosedIsHeardQuietly() throws Exception {
    // A service's last fenced write can be rejected while its master is already closing (it was
    // stopped, then its write came back): the report must not throw into the service's thread.
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    ServiceContext context = cluster.ledger.running("svc").orElseThrow();
    a.cluster().close();

    context.fencingRejected(
        new FencingTokenRejectedException(
            context.token(), context.token().value() + 1, "elsewhere#1"));
    assertThat(context.isActive()).isFalse();
    assertThat(a.state()).isEqualTo(MemberState.STOPPED);
  }

  // ---- helpers ----

  /** Advances the clock by {@code step} at a time until {@code condition} holds. */
  private void advanceUntil(java.util.function.BooleanSupplier condition, Duration step) {
    cluster.await(
        "a condition while the clock advances",
        () -> {
          if (condition.getAsBoolean()) {
            return true;
          }
          cluster.advance(step);
          try {
            Thread.sleep(20); // let the master that waits in real time look again
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return condition.getAsBoolean();
        });
  }

  private Master runnerOf(String service, Master... masters) {
    String name = cluster.ledger.runningOn(service).orElseThrow();
    return List.of(masters).stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  private RecordingService.Ledger.Event firstEvent(String service, String member, boolean start) {
    return cluster.ledger.events().stream()
        .filter(e -> e.service().equals(service))
        .filter(e -> e.member().name().equals(member) && e.start() == start)
        .findFirst()
        .orElseThrow();
  }
}
