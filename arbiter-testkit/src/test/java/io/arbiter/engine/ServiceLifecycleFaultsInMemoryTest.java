package io.arbiter.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.ClusteredService;
import io.arbiter.MemberState;
import io.arbiter.ServiceContext;
import io.arbiter.engine.InMemoryCluster.Master;
import io.arbiter.testkit.RecordingService;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Faults that land inside a start callback or between a commit and its acknowledgement. Each of
 * them once left a service owned by a master in the database while it ran nowhere (or ran under a
 * dead incarnation, never stopped): the engine must end every such state by itself, without a
 * restart and without an operator.
 */
class ServiceLifecycleFaultsInMemoryTest {
  private static final Duration TTL = InMemoryCluster.TTL;

  private final InMemoryCluster cluster = new InMemoryCluster();

  @AfterEach
  void closeAll() {
    cluster.close();
  }

  /**
   * The lease runs out while the start callback is still running. Once the callback returns, the
   * service must be stopped (its grant died with the lease), and after the rejoin it must run again
   * under the new incarnation: not stay up under the dead one, never stopped and never claimed.
   */
  @Test
  void aServiceWhoseLeaseRanOutDuringItsStartIsStoppedAndRunsAgainAfterTheRejoin()
      throws Exception {
    CountDownLatch inStart = new CountDownLatch(1);
    CountDownLatch letStartReturn = new CountDownLatch(1);
    AtomicBoolean sawInactive = new AtomicBoolean();
    ClusteredService recorded = cluster.recorded();
    AtomicInteger starts = new AtomicInteger();
    ClusteredService slowFirstStart =
        new ClusteredService() {
          @Override
          public void start(ServiceContext context) throws Exception {
            if (starts.incrementAndGet() == 1) {
              inStart.countDown();
              assertThat(letStartReturn.await(30, TimeUnit.SECONDS)).isTrue();
              sawInactive.set(!context.isActive());
            }
            recorded.start(context);
          }

          @Override
          public void stop(ServiceContext context) throws Exception {
            recorded.stop(context);
          }
        };
    Master a = cluster.start(InMemoryCluster.config("a"), b -> b.service("svc", slowFirstStart));
    assertThat(inStart.await(10, TimeUnit.SECONDS)).as("the first start began").isTrue();
    long firstIncarnation = a.incarnation();

    a.cut();
    cluster.advance(TTL.plusMillis(500));
    cluster.await("a to fence itself", () -> a.state() != MemberState.ACTIVE);
    letStartReturn.countDown(); // the start callback returns after the lease is gone
    a.heal();

    cluster.await(
        "svc to run under a's new incarnation",
        () ->
            cluster
                .ledger
                .running("svc")
                .map(c -> c.member().incarnation() > firstIncarnation)
                .orElse(false));
    assertThat(sawInactive).as("the slow start saw its grant inactive").isTrue();
    List<RecordingService.Ledger.Event> onFirst =
        cluster.ledger.events().stream()
            .filter(e -> e.member().incarnation() == firstIncarnation)
            .toList();
    assertThat(onFirst)
        .as("the start under the fenced incarnation was followed by its stop")
        .extracting(RecordingService.Ledger.Event::start)
        .containsExactly(true, false);
    assertThat(a.cluster().tokenOf("svc").orElseThrow().holder().incarnation())
        .isGreaterThan(firstIncarnation);
  }

  /**
   * A claim commits, but its acknowledgement is lost: the master hears an error. The row says this
   * incarnation owns the service; the master must start it or give it back, not skip it forever
   * because it is "owned by me".
   */
  @Test
  void aClaimWhoseAcknowledgementWasLostEndsWithTheServiceRunning() throws Exception {
    Master a =
        cluster.build(InMemoryCluster.config("a"), b -> b.service("svc", cluster.recorded()));
    a.connection.loseAcknowledgementOfNext("claiming");
    a.start();

    cluster.await("svc to run on a", () -> a.running().contains("svc"));
    assertThat(cluster.ledger.runningOn("svc")).contains("a");
  }

  /**
   * A start callback outlives {@code callbackTimeout}, then fails. The grant must be released (as a
   * failed start), so another master runs the service.
   */
  @Test
  void aStartThatFailsAfterTheCallbackTimeoutIsReleasedAndRunsElsewhere() throws Exception {
    CountDownLatch letFirstStartFail = new CountDownLatch(1);
    AtomicInteger starts = new AtomicInteger();
    ClusteredService recorded = cluster.recorded();
    ClusteredService slowFailingFirstStart =
        new ClusteredService() {
          @Override
          public void start(ServiceContext context) throws Exception {
            if (starts.incrementAndGet() == 1) {
              assertThat(letFirstStartFail.await(30, TimeUnit.SECONDS)).isTrue();
              throw new IllegalStateException("first start fails, late (injected by the test)");
            }
            recorded.start(context);
          }

          @Override
          public void stop(ServiceContext context) throws Exception {
            recorded.stop(context);
          }
        };
    Duration shortCallbackTimeout = Duration.ofMillis(200);
    Master a =
        cluster.start(
            InMemoryCluster.config("a").callbackTimeout(shortCallbackTimeout),
            b -> b.service("svc", slowFailingFirstStart));
    cluster.await("the first start to begin", () -> starts.get() == 1);
    Master b =
        cluster.start(
            InMemoryCluster.config("b").callbackTimeout(shortCallbackTimeout),
            bb -> bb.service("svc", slowFailingFirstStart));
    Thread.sleep(2 * shortCallbackTimeout.toMillis()); // past the timeout: a "keeps" its token
    letFirstStartFail.countDown();

    cluster.await("svc to run on b", () -> b.running().contains("svc"));
    assertThat(a.running()).isEmpty();
  }

  /**
   * A start fails at once, and the release that should follow fails too (the database is briefly
   * unreachable). The release must be tried again, so another master runs the service.
   */
  @Test
  void aFailedReleaseAfterAFailedStartIsTriedAgain() throws Exception {
    AtomicInteger starts = new AtomicInteger();
    ClusteredService recorded = cluster.recorded();
    ClusteredService firstStartFails =
        new ClusteredService() {
          @Override
          public void start(ServiceContext context) throws Exception {
            if (starts.incrementAndGet() == 1) {
              throw new IllegalStateException("first start fails (injected by the test)");
            }
            recorded.start(context);
          }

          @Override
          public void stop(ServiceContext context) throws Exception {
            recorded.stop(context);
          }
        };
    Master a = cluster.build(InMemoryCluster.config("a"), b -> b.service("svc", firstStartFails));
    Master b = cluster.build(InMemoryCluster.config("b"), bb -> bb.service("svc", firstStartFails));
    a.connection.failNext("releasing");
    b.connection.failNext("releasing");
    a.start();
    b.start();

    cluster.await("svc to run somewhere", () -> cluster.ledger.runningOn("svc").isPresent());
    assertThat(starts.get()).isEqualTo(2);
  }
}
