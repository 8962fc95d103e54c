package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.MemberId;
import io.arbiter.MemberState;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.internal.peer.PeerLinkEngine;
import io.arbiter.peer.PeerClassification;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.peer.PeerLinkListener;
import io.arbiter.peer.PeerView;
import io.arbiter.testkit.FaultProxy;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The two-channel classification driven by real cuts: three masters, each a real {@link Cluster}
 * renewing its lease through its own fault proxy to the database, and each with a peer link whose
 * listener sits behind another fault proxy. Cutting one channel or the other, or stopping a master,
 * must show up as the right classification on the other two.
 */
abstract class PeerLinkClassificationContract {
  // Settings wide enough for a loaded 2-core machine: renewals every 1.33 s, "not renewing" after
  // 3 s, "not on the link" after 1 s; a crash is partitioned from 1 s to at least 1.67 s after it.
  private static final Duration TTL = Duration.ofSeconds(4);
  private static final String SECRET = "peer-link-test-secret-0123456789";

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final String prefix = "p" + UUID.randomUUID().toString().substring(0, 6) + "-";
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();

  /** Services every master registers, so that a wrong failover would show as a move. */
  private static final List<String> SERVICES = List.of("s1", "s2", "s3", "s4", "s5", "s6");

  /** The database the three masters share. */
  protected abstract TestDatabase database();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        // keep closing the rest
      }
    }
    assertThat(ledger.overlaps()).as("moments with two masters running one service").isEmpty();
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  /** One master: a cluster member, its peer link, and a proxy in front of each channel. */
  private final class Master {
    final String name;
    final FaultProxy databaseProxy;
    final FaultProxy linkProxy;
    final Cluster cluster;
    final PeerLinkEngine link;
    final JdbcPeerDirectory directory;
    final AtomicReference<MemberId> lastIdentity = new AtomicReference<>();
    final List<String> lost = new CopyOnWriteArrayList<>();

    Master(String shortName) throws Exception {
      name = prefix + shortName;
      databaseProxy = closeLater(FaultProxy.forUrl(database().jdbcUrl()));
      String url = databaseProxy.jdbcUrl(database().jdbcUrl());
      ClusterConfig config = ClusterConfig.builder(name).leaseTtl(TTL).build();
      JdbcArbiter arbiter =
          closeLater(JdbcArbiter.builder(url).clusterConfig(config).createSchema(true).build());
      Cluster.Builder builder = Cluster.builder(arbiter.clusterStore(), config);
      for (String service : SERVICES) {
        // The first service is pinned to a: the tests need a to run something, and six services
        // hashed over three masters leave a with none for about one prefix in eleven.
        Placement placement =
            service.equals(SERVICES.get(0))
                ? Placement.ANYWHERE.pinTo(prefix + "a")
                : Placement.ANYWHERE;
        builder.service(
            new ServiceSpec(prefix + service, 1, placement), new RecordingService(ledger));
      }
      cluster = closeLater(builder.build());
      cluster.start();
      assertThat(cluster.awaitActive(Duration.ofSeconds(10))).isTrue();
      directory = arbiter.peerDirectory();
      link =
          new PeerLinkEngine(
              PeerLinkConfig.builder(SECRET)
                  .bindHost("127.0.0.1")
                  .pingInterval(Duration.ofMillis(200))
                  .linkTimeout(Duration.ofMillis(1000))
                  .databaseStaleAfter(Duration.ofMillis(3000))
                  .directoryInterval(Duration.ofMillis(100))
                  .build(),
              name,
              this::identity,
              directory);
      link.addListener(
          new PeerLinkListener() {
            @Override
            public void onViewChanged(String compactView) {
              try {
                directory.publishView(lastIdentity.get(), compactView);
              } catch (RuntimeException e) {
                // the database may be cut: the next change writes again
              }
            }

            @Override
            public void onPeerLost(MemberId peer, Optional<Duration> databaseLeaseLeft) {
              lost.add(peer.name());
            }
          });
      closeLater(link);
      link.start();
      linkProxy =
          closeLater(FaultProxy.forUrl("jdbc:postgresql://127.0.0.1:" + link.port() + "/link"));
      assertThat(directory.advertise(identity().orElseThrow(), "127.0.0.1:" + linkProxy.port()))
          .isTrue();
    }

    /** The current incarnation, or the last one while fenced (what the lead's engine supplies). */
    Optional<MemberId> identity() {
      cluster.member().ifPresent(lastIdentity::set);
      return Optional.ofNullable(lastIdentity.get());
    }

    Optional<PeerClassification> sees(Master other) {
      return link.view(other.name).map(PeerView::classification);
    }
  }

  /** This test's services are owned where the balancer wants them (the database is shared). */
  private boolean assignmentCarriedOut(io.arbiter.spi.ClusterFacts facts) {
    Map<String, String> want = facts.assignment().owners();
    return facts.services().stream()
        .filter(s -> s.name().startsWith(prefix))
        .allMatch(s -> s.owner().map(o -> o.name().equals(want.get(s.name()))).orElse(false));
  }

  /** Service → the member running it now, with its token (a failover would change both). */
  private Map<String, String> owners() {
    Map<String, String> out = new TreeMap<>();
    for (String s : SERVICES) {
      ledger
          .running(prefix + s)
          .ifPresent(c -> out.put(s, c.member().name() + "@" + c.token().value()));
    }
    return out;
  }

  private List<Master> threeMasters() throws Exception {
    List<Master> masters = List.of(new Master("a"), new Master("b"), new Master("c"));
    for (Master m : masters) {
      for (Master other : masters) {
        if (m != other) {
          awaitSees(m, other, PeerClassification.ALIVE, Duration.ofSeconds(5));
        }
      }
    }
    return masters;
  }

  private static void awaitSees(
      Master observer, Master peer, PeerClassification expected, Duration within) {
    await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () ->
                assertThat(observer.sees(peer))
                    .as("%s as seen by %s", peer.name, observer.name)
                    .contains(expected));
  }

  @Test
  void aMasterCutOffFromTheDatabaseIsSeenCutOffThenAliveAgain() throws Exception {
    List<Master> ms = threeMasters();
    Master a = ms.get(0);
    Master b = ms.get(1);
    Master c = ms.get(2);
    long incarnation = a.cluster.member().orElseThrow().incarnation();

    a.databaseProxy.mode(FaultProxy.Mode.BLACKHOLE);
    long cut = System.nanoTime();
    awaitSees(b, a, PeerClassification.CUT_OFF_FROM_DATABASE, TTL.plusSeconds(2));
    awaitSees(c, a, PeerClassification.CUT_OFF_FROM_DATABASE, TTL.plusSeconds(2));
    System.out.printf(
        "cut off from the database: classified after %d ms%n",
        (System.nanoTime() - cut) / 1_000_000);
    // A fences itself; its row expires; it still answers on the link, so it stays cut off, not
    // dead. Its own view of the database is stale, so it judges nobody.
    await().atMost(TTL.plusSeconds(2)).until(() -> a.cluster.state() == MemberState.FENCED);
    awaitSees(a, b, PeerClassification.UNKNOWN, Duration.ofSeconds(5));
    assertThat(a.link.views())
        .as("A never took its own stale view for its peers being cut off")
        .noneMatch(v -> v.classification() == PeerClassification.CUT_OFF_FROM_DATABASE);
    assertThat(b.sees(a)).contains(PeerClassification.CUT_OFF_FROM_DATABASE);
    await()
        .atMost(Duration.ofSeconds(4))
        .until(
            () -> String.valueOf(b.directory.publishedViews().get(b.name)).contains("=cut-off-db"));

    a.databaseProxy.mode(FaultProxy.Mode.OPEN);
    await().atMost(Duration.ofSeconds(10)).until(() -> a.cluster.state() == MemberState.ACTIVE);
    awaitSees(b, a, PeerClassification.ALIVE, Duration.ofSeconds(5));
    awaitSees(a, b, PeerClassification.ALIVE, Duration.ofSeconds(5));
    assertThat(b.link.view(a.name).orElseThrow().peer().incarnation())
        .as("the rejoined incarnation")
        .isGreaterThan(incarnation);
    assertThat(ms.stream().mapToLong(m -> m.link.rejectedTotal()).sum())
        .as("frames rejected between honest masters")
        .isZero();
  }

  @Test
  void aMasterWhosePeerLinkIsCutIsPartitionedAndNothingFailsOver() throws Exception {
    List<Master> ms = threeMasters();
    Master a = ms.get(0);
    Master b = ms.get(1);
    Master c = ms.get(2);

    // Settled first: the balancer's assignment carried out, so that nothing moves on its own.
    JdbcClusterStore admin =
        closeLater(JdbcArbiter.builder(database().jdbcUrl()).leaseTtl(TTL).build()).clusterStore();
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () ->
                assignmentCarriedOut(admin.facts())
                    && SERVICES.stream().allMatch(s -> ledger.runningOn(prefix + s).isPresent())
                    && !a.cluster.runningServices().isEmpty());
    Map<String, String> owners = owners();
    assertThat(owners.values())
        .as("a runs some of the services")
        .anySatisfy(v -> assertThat(v).startsWith(a.name + "@"));

    a.linkProxy.mode(FaultProxy.Mode.BLACKHOLE);
    long cut = System.nanoTime();
    awaitSees(b, a, PeerClassification.PARTITIONED_FROM_ME, Duration.ofSeconds(4));
    awaitSees(c, a, PeerClassification.PARTITIONED_FROM_ME, Duration.ofSeconds(4));
    System.out.printf(
        "partitioned from me: classified after %d ms%n", (System.nanoTime() - cut) / 1_000_000);
    // The database says A is alive, so it stays a member; A still reaches B and C through their
    // listeners (the cut is one-way), so it sees them alive.
    Thread.sleep(TTL.toMillis());
    assertThat(a.cluster.state()).isEqualTo(MemberState.ACTIVE);
    assertThat(b.sees(a)).contains(PeerClassification.PARTITIONED_FROM_ME);
    assertThat(a.sees(b)).contains(PeerClassification.ALIVE);
    assertThat(b.sees(c)).contains(PeerClassification.ALIVE);
    assertThat(owners()).as("who runs what, after a lease's time partitioned").isEqualTo(owners);

    a.linkProxy.mode(FaultProxy.Mode.OPEN);
    awaitSees(b, a, PeerClassification.ALIVE, Duration.ofSeconds(5));
    awaitSees(c, a, PeerClassification.ALIVE, Duration.ofSeconds(5));
    assertThat(ms.stream().mapToLong(m -> m.link.rejectedTotal()).sum())
        .as("a stalled network is not a rejected frame")
        .isZero();
  }

  @Test
  void aStoppedMasterIsDeadAndACrashedOneOnlyAfterItsLeaseGoesStale() throws Exception {
    List<Master> ms = threeMasters();
    Master a = ms.get(0);
    Master b = ms.get(1);
    Master c = ms.get(2);

    // A clean stop: announced on the link, then marked stopped in the database.
    long stop = System.nanoTime();
    a.link.leaving(Duration.ofMillis(200));
    a.cluster.close();
    a.link.close();
    awaitSees(b, a, PeerClassification.DEAD, Duration.ofSeconds(3));
    awaitSees(c, a, PeerClassification.DEAD, Duration.ofSeconds(3));
    System.out.printf("clean stop: dead after %d ms%n", (System.nanoTime() - stop) / 1_000_000);
    assertThat(b.lost).as("a clean leave is not a lost peer").doesNotContain(a.name);

    // A crash: both channels go at once. Until the database says the lease is stale, C is
    // partitioned from B (a reset alone proves nothing); then dead.
    c.databaseProxy.mode(FaultProxy.Mode.RESET);
    c.linkProxy.mode(FaultProxy.Mode.RESET);
    c.link.close();
    long crash = System.nanoTime();
    awaitSees(b, c, PeerClassification.PARTITIONED_FROM_ME, Duration.ofSeconds(3));
    awaitSees(b, c, PeerClassification.DEAD, TTL.plusSeconds(2));
    long deadAfter = (System.nanoTime() - crash) / 1_000_000;
    System.out.printf("crash: dead after %d ms%n", deadAfter);
    assertThat(deadAfter).as("not dead before its renewal is stale").isGreaterThan(1000);
    await().atMost(Duration.ofSeconds(3)).until(() -> b.lost.contains(c.name));
  }
}
