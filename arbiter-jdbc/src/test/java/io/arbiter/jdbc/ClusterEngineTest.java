package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusterListener;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.MemberNameInUseException;
import io.arbiter.MemberState;
import io.arbiter.MemberStateChange;
import io.arbiter.SchemaVersionException;
import io.arbiter.ServiceContext;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.testkit.FaultProxy;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine (Cluster) on a real database: handoff, self-fencing when the link to the database is
 * cut, start-up without a database, failing services, name conflicts and the fence.
 */
class ClusterEngineTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static TestDatabase db;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final String prefix = "e" + UUID.randomUUID().toString().substring(0, 6) + "-";
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();

  /** Each member's state changes as its ClusterListener heard them, in order. */
  private final List<MemberStateChange> stateChanges = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    assertThat(ledger.overlaps()).as("moments with two members running one service").isEmpty();
  }

  private List<String> transitionsOf(String name) {
    return stateChanges.stream()
        .filter(c -> c.memberName().equals(prefix + name))
        .map(c -> c.from() + "->" + c.to() + ": " + c.reason())
        .toList();
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  private JdbcArbiter arbiter(String url) {
    return closeLater(JdbcArbiter.builder(url).leaseTtl(TTL).createSchema(true).build());
  }

  private JdbcClusterStore store(String url) {
    return arbiter(url).clusterStore();
  }

  private Cluster member(String name, String url, String... services) {
    return member(name, url, TTL, services);
  }

  private Cluster member(String name, String url, Duration ttl, String... services) {
    ClusterConfig config = ClusterConfig.builder(prefix + name).leaseTtl(ttl).build();
    JdbcArbiter arbiter =
        closeLater(JdbcArbiter.builder(url).clusterConfig(config).createSchema(true).build());
    Cluster.Builder b =
        Cluster.builder(arbiter.clusterStore(), config)
            .listener(
                new ClusterListener() {
                  @Override
                  public void stateChanged(MemberStateChange change) {
                    stateChanges.add(change);
                  }
                });
    for (String s : services) {
      b.service(prefix + s, new RecordingService(ledger));
    }
    Cluster c = closeLater(b.build());
    c.start();
    return c;
  }

  @Test
  void aServiceRunsOnOneMemberAndMovesAtOnceOnCleanStop() throws Exception {
    Cluster a = member("a", db.jdbcUrl(), "svc");
    assertThat(a.awaitActive(Duration.ofSeconds(10))).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> a.runningServices().contains(prefix + "svc"));
    Cluster b = member("b", db.jdbcUrl(), "svc");
    assertThat(b.awaitActive(Duration.ofSeconds(10))).isTrue();
    long tokenOnA = a.tokenOf(prefix + "svc").orElseThrow().value();

    long closed = System.nanoTime();
    a.close();
    await()
        .atMost(Duration.ofSeconds(3))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> b.runningServices().contains(prefix + "svc"));
    long tookMillis = (System.nanoTime() - closed) / 1_000_000;
    // Typically tens of ms (the leave NOTIFYs); the bound leaves room for a loaded machine while
    // staying below what waiting out a's lease would take.
    assertThat(tookMillis).as("clean handoff, ms").isLessThan(2000);
    assertThat(b.tokenOf(prefix + "svc").orElseThrow().value()).isGreaterThan(tokenOnA);
    assertThat(a.state()).isEqualTo(MemberState.STOPPED);
    assertThat(transitionsOf("a"))
        .containsExactly("STARTING->ACTIVE: joined", "ACTIVE->STOPPED: closed: left the cluster");
  }

  @Test
  void aMemberCutOffFromTheDatabaseStopsItsServicesBeforeAnotherStartsThem() throws Exception {
    cutOffAndHeal(FaultProxy.Mode.BLACKHOLE);
  }

  @Test
  void aMemberWhoseConnectionsAreResetFencesAndRejoins() throws Exception {
    cutOffAndHeal(FaultProxy.Mode.RESET);
  }

  private void cutOffAndHeal(FaultProxy.Mode fault) throws Exception {
    FaultProxy proxy = closeLater(FaultProxy.forUrl(db.jdbcUrl()));
    Cluster a = member("a", proxy.jdbcUrl(db.jdbcUrl()), "svc");
    assertThat(a.awaitActive(Duration.ofSeconds(10))).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> a.runningServices().contains(prefix + "svc"));
    Cluster b = member("b", db.jdbcUrl(), "svc");
    assertThat(b.awaitActive(Duration.ofSeconds(10))).isTrue();
    long incarnation = a.member().orElseThrow().incarnation();

    proxy.mode(fault);
    await().atMost(TTL.plusSeconds(3)).until(() -> b.runningServices().contains(prefix + "svc"));
    assertThat(a.runningServices()).isEmpty();
    assertThat(a.state()).isEqualTo(MemberState.FENCED);
    // The ledger's oracle (checked after each test) proves A stopped before B started; check the
    // order of events directly too.
    List<RecordingService.Ledger.Event> events = ledger.events();
    RecordingService.Ledger.Event stopOnA =
        events.stream()
            .filter(e -> !e.start() && e.member().name().equals(prefix + "a"))
            .findFirst()
            .orElseThrow();
    RecordingService.Ledger.Event startOnB =
        events.stream()
            .filter(e -> e.start() && e.member().name().equals(prefix + "b"))
            .findFirst()
            .orElseThrow();
    assertThat(stopOnA.nanos()).as("A stopped before B started").isLessThan(startOnB.nanos());

    proxy.mode(FaultProxy.Mode.OPEN);
    await().atMost(Duration.ofSeconds(15)).until(() -> a.state() == MemberState.ACTIVE);
    assertThat(a.member().orElseThrow().incarnation())
        .as("a new incarnation")
        .isGreaterThan(incarnation);
    // The listener heard the whole story, with reasons: joined, suspect on the first failed
    // renewal, fenced when the lease ran out on a's own clock, rejoined as a new incarnation.
    List<String> heard = transitionsOf("a");
    assertThat(heard.get(0)).isEqualTo("STARTING->ACTIVE: joined");
    assertThat(heard.get(1)).startsWith("ACTIVE->SUSPECT: lease renewal failed: ");
    assertThat(heard.get(2)).startsWith("SUSPECT->FENCED: no successful renewal for ");
    assertThat(heard.get(heard.size() - 1))
        .isEqualTo("FENCED->ACTIVE: rejoined as a new incarnation");
    List<MemberStateChange> ofA =
        stateChanges.stream().filter(c -> c.memberName().equals(prefix + "a")).toList();
    assertThat(ofA.get(2).incarnation().orElseThrow().incarnation()).isEqualTo(incarnation);
    assertThat(ofA.get(ofA.size() - 1).incarnation().orElseThrow().incarnation())
        .isGreaterThan(incarnation);
    // Back in, A may get the service again from the balancer (a clean handoff, not an overlap:
    // the ledger's oracle checks that); either way exactly one of them runs it.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                a.runningServices().contains(prefix + "svc")
                    ^ b.runningServices().contains(prefix + "svc"));
  }

  @Test
  void aDatabaseDownAtStartIsRetriedAndNothingIsClaimedUntilItAnswers() throws Exception {
    FaultProxy proxy = closeLater(FaultProxy.forUrl(db.jdbcUrl()));
    proxy.mode(FaultProxy.Mode.RESET);
    Cluster a = member("a", proxy.jdbcUrl(db.jdbcUrl()), "svc");
    assertThat(a.awaitActive(Duration.ofSeconds(2))).isFalse();
    assertThat(a.state()).isEqualTo(MemberState.STARTING);
    assertThat(a.runningServices()).isEmpty();

    proxy.mode(FaultProxy.Mode.OPEN);
    assertThat(a.awaitActive(Duration.ofSeconds(15))).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> a.runningServices().contains(prefix + "svc"));
  }

  @Test
  void aServiceThatFailsToStartIsReleasedForAnotherMember() throws Exception {
    ClusterConfig config = ClusterConfig.builder(prefix + "a").build();
    Cluster.Builder failing =
        Cluster.builder(
                closeLater(
                        JdbcArbiter.builder(db.jdbcUrl())
                            .clusterConfig(config)
                            .createSchema(true)
                            .build())
                    .clusterStore(),
                config)
            .service(prefix + "svc", new RecordingService(ledger, true));
    Cluster a = closeLater(failing.build());
    a.start();
    assertThat(a.awaitActive(Duration.ofSeconds(10))).isTrue();
    Cluster b = member("b", db.jdbcUrl(), "svc");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> b.runningServices().contains(prefix + "svc"));
    assertThat(a.runningServices()).isEmpty();
  }

  @Test
  void aSecondLiveMasterWithTheSameNameFailsWithAClearError() throws Exception {
    Duration ttl = Duration.ofSeconds(1);
    Cluster first = member("same", db.jdbcUrl(), ttl);
    assertThat(first.awaitActive(Duration.ofSeconds(10))).isTrue();
    Cluster second = member("same", db.jdbcUrl(), ttl);
    await().atMost(Duration.ofSeconds(10)).until(() -> second.state() == MemberState.FAILED);
    assertThat(second.failure().orElseThrow())
        .isInstanceOf(MemberNameInUseException.class)
        .hasMessageContaining(prefix + "same")
        .hasMessageContaining("--name");
    assertThat(first.state()).isEqualTo(MemberState.ACTIVE);
  }

  @Test
  void aWriteFencedWithAStaleTokenIsRejectedAndTheServiceStopped() throws Exception {
    FaultProxy proxy = closeLater(FaultProxy.forUrl(db.jdbcUrl()));
    Cluster a = member("a", proxy.jdbcUrl(db.jdbcUrl()), "svc");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.runningServices().contains(prefix + "svc"));
    ServiceContext onA = ledger.running(prefix + "svc").orElseThrow();
    Cluster b = member("b", db.jdbcUrl(), "svc");

    proxy.mode(FaultProxy.Mode.BLACKHOLE);
    await().atMost(TTL.plusSeconds(3)).until(() -> b.runningServices().contains(prefix + "svc"));
    long current = b.tokenOf(prefix + "svc").orElseThrow().value();

    // A stale writer (a master back from a freeze) reaches the database directly.
    JdbcFence fence = arbiter(db.jdbcUrl()).fence();
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS fenced_writes (token BIGINT)");
    }
    assertThatThrownBy(
            () ->
                fence.write(
                    onA,
                    c -> {
                      try (PreparedStatement ps =
                          c.prepareStatement("INSERT INTO fenced_writes VALUES (?)")) {
                        ps.setLong(1, onA.token().value());
                        return ps.executeUpdate();
                      }
                    }))
        .isInstanceOf(FencingTokenRejectedException.class)
        .satisfies(
            e -> {
              FencingTokenRejectedException r = (FencingTokenRejectedException) e;
              assertThat(r.currentToken()).isEqualTo(current);
              assertThat(r.rejected().value()).isLessThan(current);
            });
    try (Connection c = db.connect();
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT COUNT(*) FROM fenced_writes WHERE token < " + current)) {
      rs.next();
      assertThat(rs.getLong(1)).as("stale writes that reached the table").isZero();
    }
    // And the current owner's write goes through.
    ServiceContext onB = ledger.running(prefix + "svc").orElseThrow();
    int written =
        fence.write(
            onB,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO fenced_writes VALUES (?)")) {
                ps.setLong(1, onB.token().value());
                return ps.executeUpdate();
              }
            });
    assertThat(written).isEqualTo(1);
  }

  @Test
  void aFencedTransactionLeftOpenByAFrozenMasterDoesNotBlockFailover() throws Exception {
    FaultProxy proxy = closeLater(FaultProxy.forUrl(db.jdbcUrl()));
    Cluster a = member("a", proxy.jdbcUrl(db.jdbcUrl()), "svc");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> a.runningServices().contains(prefix + "svc"));
    ServiceContext onA = ledger.running(prefix + "svc").orElseThrow();
    Cluster b = member("b", db.jdbcUrl(), "svc");
    assertThat(b.awaitActive(Duration.ofSeconds(10))).isTrue();

    // A's fenced write takes the share lock on the service row, then A "freezes" inside it while
    // its link to the database is cut: the session sits idle in transaction.
    JdbcFence fence = arbiter(db.jdbcUrl()).fence();
    java.util.concurrent.CompletableFuture<Object> frozenWrite =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return fence.write(
                    onA,
                    c -> {
                      proxy.mode(FaultProxy.Mode.BLACKHOLE);
                      try {
                        Thread.sleep(TTL.multipliedBy(3).toMillis());
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      return 1;
                    });
              } catch (Exception e) {
                return e;
              }
            });
    long cut = System.nanoTime();
    await()
        .atMost(TTL.multipliedBy(2).plusSeconds(2))
        .until(() -> b.runningServices().contains(prefix + "svc"));
    assertThat((System.nanoTime() - cut) / 1_000_000)
        .as("failover despite the open fenced transaction, ms")
        .isLessThan(TTL.multipliedBy(2).plusSeconds(2).toMillis());
    assertThat(frozenWrite.get())
        .as("the frozen write did not commit")
        .isInstanceOf(Exception.class);
  }

  @Test
  void mastersCreatingTheSchemaAtTheSameMomentAllSucceed() throws Exception {
    TestDatabase empty = closeLater(TestDatabases.embeddedPostgres());
    List<JdbcClusterStore> stores = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      stores.add(store(empty.jdbcUrl()));
    }
    java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(stores.size());
    List<java.util.concurrent.CompletableFuture<Void>> inits = new ArrayList<>();
    for (JdbcClusterStore s : stores) {
      inits.add(
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try {
                  go.await();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                s.initialize();
              }));
    }
    for (var f : inits) {
      f.get(); // throws if any of them failed
    }
  }

  @Test
  void wrongCredentialsFailWithAClearMessage() throws Exception {
    String url = db.jdbcUrl().replace("user=postgres", "user=nobody_here");
    Cluster a = member("a", url, "svc");
    await().atMost(Duration.ofSeconds(10)).until(() -> a.state() == MemberState.FAILED);
    assertThat(a.failure().orElseThrow())
        .isInstanceOfSatisfying(
            StoreMisconfiguredException.class,
            e -> assertThat(e.problem()).isEqualTo(StoreMisconfiguredException.Problem.CREDENTIALS))
        .hasMessageContaining("refused the credentials");
  }

  @Test
  void aSchemaFromANewerVersionIsRefused() throws Exception {
    TestDatabase other = TestDatabases.embeddedPostgres();
    try {
      store(other.jdbcUrl()).initialize();
      try (Connection c = other.connect();
          Statement st = c.createStatement()) {
        st.execute("INSERT INTO arbiter_schema_version (version) VALUES (99)");
      }
      assertThatThrownBy(() -> store(other.jdbcUrl()).initialize())
          .isInstanceOfSatisfying(
              SchemaVersionException.class,
              e -> {
                assertThat(e.found()).isEqualTo(99);
                assertThat(e.isNewer()).isTrue();
              })
          .hasMessageContaining("version 99")
          .hasMessageContaining("newer");
    } finally {
      other.close();
    }
  }

  @Test
  void aMissingSchemaWithoutPermissionToCreateItNamesTheScript() {
    TestDatabase other = closeLater(TestDatabases.embeddedPostgres());
    JdbcClusterStore store =
        closeLater(JdbcArbiter.builder(other.jdbcUrl()).leaseTtl(TTL).build()).clusterStore();
    assertThatThrownBy(store::initialize)
        .isInstanceOfSatisfying(
            SchemaVersionException.class,
            e -> {
              assertThat(e.found()).isZero();
              assertThat(e.isNewer()).isFalse();
            })
        .hasMessageContaining("missing")
        .hasMessageContaining("io/arbiter/jdbc/schema/postgresql/V1__arbiter.sql");
  }
}
