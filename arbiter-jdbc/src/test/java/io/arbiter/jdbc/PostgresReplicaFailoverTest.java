package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.Cluster;
import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterConfig;
import io.arbiter.FencingToken;
import io.arbiter.MemberState;
import io.arbiter.testkit.EmbeddedPostgresReplication;
import io.arbiter.testkit.EmbeddedPostgresReplication.Mode;
import io.arbiter.testkit.FaultProxy;
import io.arbiter.testkit.RecordingService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Masters on a PostgreSQL primary with a streaming replica; the primary dies (SIGKILL), the replica
 * is promoted, and the masters' addresses move to it (their proxies, standing in for a virtual IP
 * or a DNS name). With synchronous replication no acknowledged commit is lost, so the cluster
 * carries on: no master fails, no service runs twice, and every service runs where the new primary
 * says, within a lease and 2 s of the promotion.
 */
class PostgresReplicaFailoverTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static final int SERVICES = 12;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    assertThat(ledger.overlaps()).as("moments with two masters running one service").isEmpty();
  }

  @Test
  void afterAFailoverToASynchronousReplicaEveryServiceRunsWhereTheNewPrimarySays()
      throws Exception {
    EmbeddedPostgresReplication db =
        closeLater(EmbeddedPostgresReplication.start(Mode.SYNCHRONOUS));
    List<FaultProxy> proxies = new ArrayList<>();
    List<Cluster> masters = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      FaultProxy proxy = closeLater(FaultProxy.forUrl(db.primaryUrl()));
      proxies.add(proxy);
      masters.add(master(name, proxy.jdbcUrl(db.primaryUrl())));
    }
    JdbcArbiter observer =
        closeLater(JdbcArbiter.builder(db.primaryUrl()).createSchema(true).build());
    observer.initializeSchema();
    assertThat(new ClusterAdmin(observer.clusterStore()).awaitBalanced(Duration.ofSeconds(20)))
        .as("balanced before the failover")
        .isTrue();
    awaitEveryServiceRunsWhereTheDatabaseSays(masters, observer, Duration.ofSeconds(20));
    Map<String, Long> tokensBefore = tokens(observer);

    db.failOver();
    long promotedAt = System.nanoTime();
    proxies.forEach(p -> p.retarget(db.primaryPort()));
    JdbcArbiter newObserver = closeLater(JdbcArbiter.builder(db.primaryUrl()).build());

    Duration bound = TTL.plusSeconds(2);
    awaitEveryServiceRunsWhereTheDatabaseSays(masters, newObserver, bound);
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - promotedAt);
    assertThat(tookMillis)
        .as("re-owned within lease + 2 s of the promotion")
        .isLessThan(bound.toMillis());
    Map<String, Long> tokensAfter = tokens(newObserver);
    tokensBefore.forEach(
        (service, token) ->
            assertThat(tokensAfter.get(service))
                .as("token of %s after the failover (no acknowledged grant lost)", service)
                .isGreaterThanOrEqualTo(token));
    masters.forEach(m -> assertThat(m.state()).isNotEqualTo(MemberState.FAILED));
  }

  private Cluster master(String name, String url) {
    ClusterConfig config = ClusterConfig.builder(name).leaseTtl(TTL).build();
    JdbcArbiter arbiter =
        closeLater(JdbcArbiter.builder(url).clusterConfig(config).createSchema(true).build());
    Cluster.Builder b = Cluster.builder(arbiter.clusterStore(), config);
    for (int i = 0; i < SERVICES; i++) {
      b.service("svc-" + i, new RecordingService(ledger));
    }
    Cluster c = closeLater(b.build());
    c.start();
    return c;
  }

  /**
   * Waits until every service has a live owner in the database and runs there (and only there)
   * under the database's token.
   */
  private void awaitEveryServiceRunsWhereTheDatabaseSays(
      List<Cluster> masters, JdbcArbiter observer, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    String last = "";
    while (System.nanoTime() - deadline < 0) {
      last = mismatch(masters, observer);
      if (last == null) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("after " + within + ": " + last);
  }

  /** What differs between the database's owners and what runs, or null if nothing. */
  private String mismatch(List<Cluster> masters, JdbcArbiter observer) {
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < SERVICES; i++) {
      String service = "svc-" + i;
      Optional<FencingToken> grant;
      try {
        grant = observer.clusterStore().currentGrant(service);
      } catch (RuntimeException e) {
        return "cannot read the database: " + e.getMessage();
      }
      if (grant.isEmpty()) {
        problems.add(service + " has no owner");
        continue;
      }
      List<String> runners = new ArrayList<>();
      for (Cluster m : masters) {
        m.tokenOf(service).ifPresent(t -> runners.add(t.holder() + "@" + t.value()));
      }
      String expected = grant.get().holder() + "@" + grant.get().value();
      if (!runners.equals(List.of(expected))) {
        problems.add(service + ": the database says " + expected + ", running: " + runners);
      }
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  private Map<String, Long> tokens(JdbcArbiter observer) {
    Map<String, Long> tokens = new HashMap<>();
    for (int i = 0; i < SERVICES; i++) {
      String service = "svc-" + i;
      tokens.put(service, observer.clusterStore().currentGrant(service).orElseThrow().value());
    }
    return tokens;
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }
}
