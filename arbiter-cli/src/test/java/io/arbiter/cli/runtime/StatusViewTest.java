package io.arbiter.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.Cluster;
import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterConfig;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What `arbiter status` shows, read from a real cluster: two masters in this JVM on the embedded
 * PostgreSQL, one of them drained, with a local service, a service no master can take, the peer
 * link and the event log.
 */
class StatusViewTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static final String SECRET = "a-status-test-secret-of-32-bytes";

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();
  private TestDatabase db;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void statusShowsDrainsLocalAndUnplaceableServicesPeerViewsAndEventPositions() throws Exception {
    db = TestDatabases.embeddedPostgres();
    Cluster web = master("web-1", Set.of("web"));
    Cluster builder = master("builder-1", Set.of("builder"));
    assertThat(web.awaitActive(Duration.ofSeconds(10))).isTrue();
    assertThat(builder.awaitActive(Duration.ofSeconds(10))).isTrue();
    JdbcArbiter admin = closeLater(JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(TTL).build());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> web.runningServices().contains("force-scheduler"));
    new ClusterAdmin(admin.clusterStore()).drain("builder-1");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> builder.runningServices().isEmpty() && web.runningServices().size() == 4);
    long seq = web.events().orElseThrow().publish("builds", "42", new byte[] {1});
    assertThat(builder.events().orElseThrow().awaitDelivered(seq, Duration.ofSeconds(5))).isTrue();

    // Views and positions are written when they change; wait until both are in the database.
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              StatusView.Snapshot s = StatusView.Snapshot.read(admin);
              assertThat(s.peerViews().get("web-1")).contains("builder-1#1=alive");
              assertThat(s.peerViews().get("builder-1")).contains("web-1#1=alive");
              assertThat(s.eventPositions())
                  .anySatisfy(p -> assertThat(p.member()).isEqualTo("builder-1"));
              assertThat(s.eventPositions()).allSatisfy(p -> assertThat(p.lag()).isZero());
            });
    StatusView.Snapshot snapshot = StatusView.Snapshot.read(admin);
    String table = StatusView.table(snapshot, true);

    assertThat(table)
        .containsPattern("builder-1 +1 ACTIVE .* 0 DRAINING cap 1 builder")
        .containsPattern("web-1 +1 ACTIVE .* 3 cap 1 web .*svc-1@")
        .contains("local force-scheduler on: web-1")
        .contains("UNPLACEABLE gpu-job: no live master has tag 'gpu'")
        .contains("peer link: web-1 sees builder-1#1=alive")
        .contains("peer link: builder-1 sees web-1#1=alive")
        .containsPattern("event log: head " + seq + ";.* builder-1 at " + seq + " \\(lag 0");

    JsonNode json = new ObjectMapper().readTree(StatusView.json(snapshot));
    assertThat(json.get("unplaceable").get("gpu-job").asText()).contains("tag 'gpu'");
    assertThat(json.get("local").get("force-scheduler").get(0).asText()).isEqualTo("web-1");
    assertThat(json.get("pending_moves").asLong()).isZero();
    JsonNode members = json.get("members");
    assertThat(members).hasSize(2);
    for (JsonNode m : members) {
      assertThat(m.get("draining").asBoolean())
          .isEqualTo(m.get("name").asText().equals("builder-1"));
    }
    assertThat(json.get("event_log").get(0).get("head_seq").asLong()).isEqualTo(seq);
  }

  private Cluster master(String name, Set<String> tags) {
    ClusterConfig config =
        ClusterConfig.builder(name).leaseTtl(TTL).tags(List.copyOf(tags)).build();
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build());
    Cluster.Builder b =
        Cluster.builder(arbiter.clusterStore(), config)
            .peerLink(PeerLinkConfig.builder(SECRET).bindHost("127.0.0.1").build())
            .events(arbiter.eventStore());
    for (String s : List.of("svc-1", "svc-2", "svc-3")) {
      b.service(s, new RecordingService(ledger));
    }
    b.service(
        new ServiceSpec("gpu-job", 1, Placement.ANYWHERE.requireTag("gpu")),
        new RecordingService(ledger));
    b.service(
        new ServiceSpec(
            "force-scheduler", 1, Placement.ANYWHERE.requireTag("web").onEveryMatchingMaster()),
        new RecordingService(ledger));
    Cluster c = closeLater(b.build());
    c.start();
    return c;
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }
}
