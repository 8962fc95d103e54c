package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.arbiter.ArbiterException;
import io.arbiter.Cluster;
import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusteredService;
import io.arbiter.MemberState;
import io.arbiter.ServiceContext;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Balancing in the engine, on a real database (a fresh one per test, so no service of another test
 * is in the balance): even spread, minimal movement on a join, drain and undrain, an operator's
 * move within the rules, local services and unplaceable ones. The ledger checks after each test
 * that no service ever ran on two masters at once.
 */
class BalancingEngineTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static final Duration SETTLE = Duration.ofSeconds(15);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();
  private TestDatabase db;
  private JdbcArbiter adminArbiter;
  private ClusterAdmin admin;

  @BeforeEach
  void freshDatabase() {
    db = TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    adminArbiter = JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(TTL).createSchema(true).build();
    adminArbiter.initializeSchema();
    admin = new ClusterAdmin(adminArbiter.clusterStore());
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    adminArbiter.close();
    db.close();
    assertThat(ledger.overlaps()).as("moments with two masters running one service").isEmpty();
  }

  @Test
  void servicesSpreadEvenlyAndAJoinMovesOnlyTheNewMastersShare() throws Exception {
    List<String> services = names("svc-", 30);
    List<Cluster> masters = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      masters.add(master(name, b -> services.forEach(s -> b.service(s, recorded()))));
    }
    awaitMembers(3);
    awaitBalanced(services);
    for (Cluster m : masters) {
      assertThat(m.runningServices().size())
          .as(
              "services on %s (fair share 10; bounded load allows one above)",
              m.config().memberName())
          .isLessThanOrEqualTo(11);
    }
    Map<String, String> before = runners(services);

    Cluster d = master("d", b -> services.forEach(s -> b.service(s, recorded())));
    awaitMembers(4);
    awaitBalanced(services);
    Map<String, String> after = runners(services);
    List<String> moved =
        services.stream().filter(s -> !before.get(s).equals(after.get(s))).toList();
    long toOthers = moved.stream().filter(s -> !after.get(s).equals("d")).count();
    // Bounded load lowers every master's room when one joins, so now and then a service moves
    // between old masters too (1.04x ideal at 10,000 services; see docs/balancing.md).
    assertThat(toOthers).as("moves between old masters, of %s", moved).isLessThanOrEqualTo(3);
    assertThat(moved.size()).as("moves for an ideal of 30/4 = 7.5").isBetween(5, 11);
    assertThat(d.runningServices()).hasSize((int) (moved.size() - toOthers));
  }

  @Test
  void aJoinMovesServicesAFewAtATimeWithinMaxMovesInFlight() throws Exception {
    int limit = 2;
    List<String> services = names("svc-", 60);
    for (String name : List.of("a", "b")) {
      master(name, limit, b -> services.forEach(s -> b.service(s, recorded())));
    }
    awaitMembers(2);
    awaitBalanced(services);
    long joined = System.nanoTime();

    master("c", limit, b -> services.forEach(s -> b.service(s, recorded())));
    awaitMembers(3);
    awaitBalanced(services);

    // Replay the ledger from the join: a service is in flight from its stop to its next start.
    Set<String> inFlight = new java.util.HashSet<>();
    int most = 0;
    int stops = 0;
    for (RecordingService.Ledger.Event e : ledger.events()) {
      if (e.nanos() < joined) {
        continue;
      }
      if (e.start()) {
        inFlight.remove(e.service());
      } else {
        inFlight.add(e.service());
        stops++;
        most = Math.max(most, inFlight.size());
      }
    }
    assertThat(stops).as("services moved to the newcomer (ideal 60/3)").isGreaterThan(12);
    // Each of the two old masters has at most `limit` released and not yet claimed; counted from
    // stop to start, a batch being stopped can overlap one claimed but not yet started, so at most
    // 2 x limit per old master. Without the bound all ~20 would stop together.
    assertThat(most)
        .as("services stopped and not yet started again, at most")
        .isBetween(1, 2 * 2 * limit);
  }

  @Test
  void drainEmptiesAMasterWithShortHandoffsAndUndrainRefillsIt() throws Exception {
    List<String> services = names("job-", 12);
    Map<String, Cluster> masters = new HashMap<>();
    for (String name : List.of("a", "b", "c")) {
      masters.put(name, master(name, b -> services.forEach(s -> b.service(s, recorded()))));
    }
    awaitMembers(3);
    awaitBalanced(services);
    Set<String> onB = masters.get("b").runningServices();
    assertThat(onB).isNotEmpty();
    int eventsBefore = ledger.events().size();

    admin.drain("b");
    assertThat(admin.awaitBalanced(SETTLE)).isTrue();
    await().atMost(SETTLE).until(() -> masters.get("b").runningServices().isEmpty());
    awaitBalanced(services);
    assertThat(masters.get("b").state())
        .as("a drained master keeps running")
        .isEqualTo(MemberState.ACTIVE);
    // Each moved service stopped on b, then started elsewhere shortly after: a handoff, not a
    // failover that waits for a lease.
    List<RecordingService.Ledger.Event> events =
        ledger.events().subList(eventsBefore, ledger.events().size());
    for (String service : onB) {
      long stop =
          events.stream()
              .filter(e -> e.service().equals(service) && !e.start())
              .findFirst()
              .orElseThrow()
              .nanos();
      long start =
          events.stream()
              .filter(e -> e.service().equals(service) && e.start())
              .findFirst()
              .orElseThrow()
              .nanos();
      assertThat((start - stop) / 1_000_000).as("gap of %s in ms", service).isBetween(0L, 2_000L);
    }

    admin.undrain("b");
    await().atMost(SETTLE).until(() -> !masters.get("b").runningServices().isEmpty());
    awaitBalanced(services);
  }

  @Test
  void aMoveRunsTheServiceWhereAskedWithinItsRules() throws Exception {
    ServiceSpec anywhere = ServiceSpec.of("report");
    ServiceSpec webOnly = new ServiceSpec("ui-poller", 1, Placement.ANYWHERE.requireTag("web"));
    Consumer<Cluster.Builder> services =
        b -> b.service(anywhere, recorded()).service(webOnly, recorded());
    master("a", services, "web");
    master("b", services);
    awaitMembers(2);
    awaitBalanced(List.of("report", "ui-poller"));
    assertThat(ledger.runningOn("ui-poller"))
        .as("the web-only service runs on the web master")
        .contains("a");

    String target = ledger.runningOn("report").orElseThrow().equals("a") ? "b" : "a";
    admin.move("report", target);
    await().atMost(SETTLE).until(() -> ledger.runningOn("report").equals(Optional.of(target)));

    assertThatThrownBy(() -> admin.move("ui-poller", "b"))
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("rules forbid")
        .hasMessageContaining("requires tag web");
    assertThatThrownBy(() -> admin.move("report", "nobody"))
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("no live master has that name");
    assertThatThrownBy(() -> admin.move("no-such-service", "a"))
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("no service named no-such-service");

    admin.unmove("report");
    assertThat(admin.awaitBalanced(SETTLE)).isTrue();
  }

  @Test
  void localServicesRunOnEveryMatchingMasterAndUnplaceableOnesAreReported() throws Exception {
    Map<String, Set<String>> localRuns = new ConcurrentHashMap<>();
    ServiceSpec force =
        new ServiceSpec(
            "force-scheduler", 1, Placement.ANYWHERE.requireTag("web").onEveryMatchingMaster());
    ServiceSpec gpu = new ServiceSpec("gpu-builds", 1, Placement.ANYWHERE.requireTag("gpu"));
    ServiceSpec pair1 =
        new ServiceSpec("replica-1", 1, Placement.ANYWHERE.antiAffinity("replicas"));
    ServiceSpec pair2 =
        new ServiceSpec("replica-2", 1, Placement.ANYWHERE.antiAffinity("replicas"));
    Consumer<Cluster.Builder> services =
        b ->
            b.service(force, new LocalRecorder(localRuns))
                .service(gpu, recorded())
                .service(pair1, recorded())
                .service(pair2, recorded());
    master("a", services, "web");
    master("b", services, "web");
    master("c", services, "builder");

    await()
        .atMost(SETTLE)
        .until(() -> localRuns.getOrDefault("force-scheduler", Set.of()).equals(Set.of("a", "b")));
    awaitBalanced(List.of("replica-1", "replica-2"));
    assertThat(ledger.runningOn("replica-1")).isNotEqualTo(ledger.runningOn("replica-2"));

    ClusterFacts facts = adminArbiter.clusterStore().facts();
    assertThat(facts.assignment().unplaceable())
        .containsEntry("gpu-builds", "no live master has tag 'gpu'");
    assertThat(ledger.runningOn("gpu-builds")).isEmpty();
    assertThat(facts.assignment().local()).containsEntry("force-scheduler", Set.of("a", "b"));
  }

  @Test
  void aServiceWhoseStopIsSlowerThanTheCallbackTimeoutIsStillHandedOver() throws Exception {
    List<String> services = names("slow-", 6);
    java.util.concurrent.atomic.AtomicBoolean slowStops =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    ClusterConfig configA =
        ClusterConfig.builder("a").leaseTtl(TTL).callbackTimeout(Duration.ofMillis(300)).build();
    JdbcArbiter arbiterA =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(configA).createSchema(true).build());
    Cluster.Builder builderA = Cluster.builder(arbiterA.clusterStore(), configA);
    for (String s : services) {
      RecordingService inner = new RecordingService(ledger);
      builderA.service(
          s,
          new ClusteredService() {
            @Override
            public void start(ServiceContext context) throws Exception {
              inner.start(context);
            }

            @Override
            public void stop(ServiceContext context) throws Exception {
              if (slowStops.get()) {
                Thread.sleep(1_000); // longer than the callback timeout
              }
              inner.stop(context);
            }
          });
    }
    Cluster a = closeLater(builderA.build());
    a.start();
    awaitMembers(1);
    awaitBalanced(services);
    Cluster b = master("b", x -> services.forEach(s -> x.service(s, recorded())));
    awaitMembers(2);
    // The stops return late; the services must still be released and run on b, never on both.
    await().atMost(SETTLE).until(() -> !b.runningServices().isEmpty());
    assertThat(admin.awaitBalanced(SETTLE)).isTrue();
    await()
        .atMost(SETTLE)
        .until(() -> services.stream().allMatch(s -> ledger.runningOn(s).isPresent()));
    slowStops.set(false);
  }

  @Test
  void aServiceThatFailsToStartOnTheOnlyMasterIsTriedAgain() throws Exception {
    java.util.concurrent.atomic.AtomicInteger attempts =
        new java.util.concurrent.atomic.AtomicInteger();
    RecordingService inner = new RecordingService(ledger);
    master(
        "solo",
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
    // The failed incarnation is avoided only while another master could run it.
    await().atMost(SETTLE).until(() -> ledger.runningOn("flaky").isPresent());
    assertThat(attempts.get()).isGreaterThanOrEqualTo(2);
  }

  // ---- helpers ----

  private Cluster master(String name, Consumer<Cluster.Builder> services, String... tags) {
    return master(name, ClusterConfig.DEFAULT_MAX_MOVES_IN_FLIGHT, services, tags);
  }

  private Cluster master(
      String name, int maxMovesInFlight, Consumer<Cluster.Builder> services, String... tags) {
    ClusterConfig config =
        ClusterConfig.builder(name)
            .leaseTtl(TTL)
            .maxMovesInFlight(maxMovesInFlight)
            .tags(List.of(tags))
            .build();
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build());
    Cluster.Builder b = Cluster.builder(arbiter.clusterStore(), config);
    services.accept(b);
    Cluster c = closeLater(b.build());
    c.start();
    return c;
  }

  private ClusteredService recorded() {
    return new RecordingService(ledger);
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  private static List<String> names(String prefix, int n) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      names.add(prefix + i);
    }
    return names;
  }

  private void awaitMembers(int n) {
    await().atMost(SETTLE).until(() -> adminArbiter.clusterStore().facts().members().size() == n);
  }

  /** Waits until the database shows the assignment carried out and every service runs. */
  private void awaitBalanced(List<String> services) throws InterruptedException {
    assertThat(admin.awaitBalanced(SETTLE)).as("balanced within %s", SETTLE).isTrue();
    await()
        .atMost(SETTLE)
        .until(() -> services.stream().allMatch(s -> ledger.runningOn(s).isPresent()));
  }

  private Map<String, String> runners(List<String> services) {
    Map<String, String> out = new HashMap<>();
    services.forEach(s -> out.put(s, ledger.runningOn(s).orElseThrow()));
    return out;
  }

  /** A local service: records on which masters it runs (it may run on several at once). */
  private record LocalRecorder(Map<String, Set<String>> runs) implements ClusteredService {
    @Override
    public void start(ServiceContext context) {
      runs.merge(
          context.serviceName(), Set.of(context.member().name()), BalancingEngineTest::union);
    }

    @Override
    public void stop(ServiceContext context) {
      runs.computeIfPresent(
          context.serviceName(),
          (k, v) ->
              v.stream()
                  .filter(m -> !m.equals(context.member().name()))
                  .collect(java.util.stream.Collectors.toSet()));
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new java.util.HashSet<>(a);
    out.addAll(b);
    return Set.copyOf(out);
  }
}
