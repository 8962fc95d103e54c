package io.arbiter.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.MemberState;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.engine.InMemoryCluster.Master;
import io.arbiter.testkit.InMemoryClusterStore;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A database that turns read-only (a hot standby, a primary demoted by a failover) is transient,
 * like an unreachable one: the master fences itself when its lease cannot be renewed and rejoins
 * once the database is writable. Only a master that never joined gives up, once the database has
 * stayed read-only past its {@code readOnlyStartupLimit}.
 */
class ReadOnlyDatabaseInMemoryTest {
  private static final Duration TTL = InMemoryCluster.TTL;
  private static final Duration LIMIT = Duration.ofSeconds(2);

  private final InMemoryCluster cluster = new InMemoryCluster();

  @AfterEach
  void closeAll() {
    cluster.close();
  }

  @Test
  void aMasterWhoseDatabaseTurnsReadOnlyFencesItselfAndRunsItsServicesAgainWhenWritable()
      throws Exception {
    Master a =
        cluster.start(
            InMemoryCluster.config("a").readOnlyStartupLimit(LIMIT),
            b -> b.service("svc", cluster.recorded()));
    cluster.await("svc on a", () -> a.running().contains("svc"));
    long incarnation = a.incarnation();

    a.connection.fault(InMemoryClusterStore.Fault.READ_ONLY);
    // Read-only for longer than the lease and than the start-up limit: the lease cannot be renewed,
    // so the master stops its services, but it stays alive and keeps trying.
    cluster.advance(TTL.plus(LIMIT).plusMillis(250));
    cluster.await("a to fence itself", () -> a.state() == MemberState.FENCED);
    assertThat(a.running()).isEmpty();
    Thread.sleep(300); // real time for a few more attempts on the read-only database
    assertThat(a.state()).isEqualTo(MemberState.FENCED);
    assertThat(a.cluster().failure()).isEmpty();

    a.heal();
    cluster.await("a to rejoin", () -> a.state() == MemberState.ACTIVE);
    assertThat(a.incarnation()).as("a new incarnation").isGreaterThan(incarnation);
    cluster.await("svc on a again", () -> a.running().contains("svc"));
  }

  @Test
  void aMasterWhoseDatabaseIsReadOnlyForAWhileKeepsItsLease() throws Exception {
    Master a = cluster.start("a", "svc");
    cluster.await("svc on a", () -> a.running().contains("svc"));
    long incarnation = a.incarnation();

    a.connection.fault(InMemoryClusterStore.Fault.READ_ONLY);
    cluster.await("a failed renewal", () -> a.state() == MemberState.SUSPECT);
    cluster.advance(Duration.ofSeconds(1));
    a.heal();
    cluster.await("a to renew again", () -> a.state() == MemberState.ACTIVE);
    assertThat(a.incarnation()).isEqualTo(incarnation);
    assertThat(a.running()).containsExactly("svc");
  }

  @Test
  void aDatabaseReadOnlyAtFirstStartPastTheLimitFailsTheMasterWithTheReason() throws Exception {
    Master a =
        cluster.build(
            InMemoryCluster.config("a").readOnlyStartupLimit(LIMIT),
            b -> b.service("svc", cluster.recorded()));
    a.connection.fault(InMemoryClusterStore.Fault.READ_ONLY);
    a.start();
    assertThat(a.cluster().awaitActive(Duration.ofMillis(300))).isFalse();
    assertThat(a.state()).isEqualTo(MemberState.STARTING);

    cluster.advance(LIMIT.plusMillis(250));
    cluster.await("a to fail", () -> a.state() == MemberState.FAILED);
    assertThat(a.cluster().failure().orElseThrow())
        .isInstanceOf(StoreMisconfiguredException.class)
        .hasMessageContaining("the database is read-only")
        .hasMessageContaining("point Arbiter at the primary, writable server")
        .hasMessageContaining("readOnlyStartupLimit");
    assertThat(a.running()).isEmpty();
  }

  @Test
  void aDatabaseReadOnlyAtFirstStartForLessThanTheLimitIsWaitedOut() throws Exception {
    Master a =
        cluster.build(
            InMemoryCluster.config("a").readOnlyStartupLimit(LIMIT),
            b -> b.service("svc", cluster.recorded()));
    a.connection.fault(InMemoryClusterStore.Fault.READ_ONLY);
    a.start();
    cluster.advance(LIMIT.minusMillis(500));
    Thread.sleep(300); // real time for a few attempts on the read-only database
    assertThat(a.state()).isEqualTo(MemberState.STARTING);

    a.heal();
    assertThat(a.cluster().awaitActive(InMemoryCluster.SETTLE)).isTrue();
    cluster.await("svc on a", () -> a.running().contains("svc"));
  }
}
