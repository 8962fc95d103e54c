package io.arbiter.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.ClusterAdmin;
import io.arbiter.examples.buildfarm.BuildFarmWorkload;
import io.arbiter.examples.buildfarm.TickHistory;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Drain and a rolling restart with real master processes ({@code arbiter master} in separate JVMs)
 * and the real command line ({@code arbiter drain|undrain}). The evidence is the fenced ticks the
 * services write every 100 ms: during a drain and a rolling restart of every master, no service
 * goes without a tick for longer than a handoff, and no stale tick is accepted.
 */
@Tag("slow")
class MultiProcessBalanceTest {
  private static final Duration LEASE_TTL = Duration.ofSeconds(3);
  private static final Duration STARTUP = Duration.ofSeconds(45);
  private static final int SERVICES = 9;

  /**
   * The longest time a service may go without an accepted tick while it moves by handoff: the tick
   * interval (100 ms) and the work before each write (50 ms), a handoff (stop, release, notify,
   * claim, start: tens of ms) and room for a loaded 2-core machine. A failover that waited for a
   * lease would take over 3 s.
   */
  private static final long MAX_TICK_GAP_MS = 2_500;

  private TestDatabase db;
  private JdbcArbiter arbiter;
  private JdbcClusterStore store;
  private MasterFleet fleet;

  @BeforeEach
  void start() throws Exception {
    db = TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    try (JdbcArbiter setup =
        JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(LEASE_TTL).createSchema(true).build()) {
      setup.initializeSchema();
      BuildFarmWorkload.createTable(setup.dataSource(), setup.dialect());
    }
    arbiter = JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(LEASE_TTL).build();
    store = arbiter.clusterStore();
    fleet =
        new MasterFleet(
            Path.of("target", "multi-process-balance", db.name()).toAbsolutePath(),
            DemoCommand.masterJvm());
    // As the demo runs them: a and b are web masters with the local force scheduler, c builds,
    // and all three run the peer link.
    String secret = java.util.UUID.randomUUID().toString();
    for (String name : List.of("a", "b", "c")) {
      List<String> args =
          List.of(
              "--db",
              db.jdbcUrl(),
              "--services",
              String.valueOf(SERVICES),
              "--tick",
              "100ms",
              "--tags",
              name.equals("c") ? "builder" : "web",
              "--local-service",
              "force-scheduler:web",
              "--peer-secret",
              secret);
      fleet.start(name, args);
    }
    awaitBalancedAndTicking(3);
  }

  @AfterEach
  void stop() {
    try {
      if (fleet != null) {
        fleet.close(); // stops every master process, also when the test failed
      }
    } finally {
      if (arbiter != null) {
        arbiter.close();
      }
      if (db != null) {
        db.close();
      }
    }
  }

  @Test
  void drainMovesEverythingOffAMasterByHandoffAndLeavesItRunning() throws Exception {
    long from = lastTickId();
    assertThat(ownedBy("b")).isPositive();

    assertThat(arbiter("drain", "b")).as("arbiter drain b").isZero();
    assertThat(ownedBy("b")).as("services on b after the drain").isZero();
    MasterProcess b = master("b");
    assertThat(b.isAlive()).as("a drained master keeps running").isTrue();
    assertThat(store.facts().members()).extracting(ClusterFacts.Member::name).contains("b");
    awaitBalancedAndTicking(3);

    assertThat(arbiter("undrain", "b")).as("arbiter undrain b").isZero();
    awaitBalancedAndTicking(3);
    assertThat(ownedBy("b")).as("services on b after undrain").isPositive();

    assertNoLongGapsAndSafe(from);
  }

  @Test
  void aRollingRestartOfEveryMasterKeepsEveryServiceRunning() throws Exception {
    long from = lastTickId();
    for (MasterProcess m : fleet.masters()) {
      assertThat(arbiter("drain", m.name())).as("arbiter drain %s", m.name()).isZero();
      assertThat(ownedBy(m.name())).as("services on %s after the drain", m.name()).isZero();
      assertThat(m.stop(15_000)).as("%s stopped cleanly (log %s)", m.name(), m.log()).isTrue();
      fleet.restart(m); // the upgraded master
      await(m.name() + " back as a new incarnation")
          .atMost(STARTUP)
          .ignoreExceptions()
          .until(() -> store.facts().members().stream().anyMatch(x -> x.name().equals(m.name())));
      assertThat(arbiter("undrain", m.name())).as("arbiter undrain %s", m.name()).isZero();
      awaitBalancedAndTicking(3);
    }
    assertNoLongGapsAndSafe(from);
    assertThat(store.facts().assignment().local())
        .as("the local force scheduler, on every web master again")
        .hasSize(1)
        .allSatisfy((service, on) -> assertThat(on).containsExactlyInAnyOrder("a", "b"));
  }

  // ---- helpers ----

  private MasterProcess master(String name) {
    return fleet.masters().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  /** Runs the real command line in this JVM; returns its exit code. */
  private int arbiter(String command, String master) {
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new PrintWriter(err, true), command, master, "--db", db.jdbcUrl(), "--wait", "30s");
    if (code != 0) {
      System.err.println("arbiter " + command + " " + master + ": " + err);
    }
    return code;
  }

  private long ownedBy(String master) {
    return store.facts().services().stream()
        .filter(s -> s.owner().map(o -> o.name().equals(master)).orElse(false))
        .count();
  }

  private void awaitBalancedAndTicking(int members) {
    await("balanced over " + members + " masters, every service ticking")
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              ClusterFacts facts = store.facts();
              // The local force scheduler holds no claim and writes no ticks: not counted.
              return facts.members().size() == members
                  && claimed(facts).size() == SERVICES
                  && ClusterAdmin.isBalanced(facts)
                  && everyServiceTickedSince(facts);
            });
  }

  /** The clustered services, without the local ones. */
  private static List<ClusterFacts.Service> claimed(ClusterFacts facts) {
    return facts.services().stream()
        .filter(s -> !facts.assignment().local().containsKey(s.name()))
        .toList();
  }

  private boolean everyServiceTickedSince(ClusterFacts facts) throws SQLException {
    try (Connection c = db.connect()) {
      for (ClusterFacts.Service s : claimed(facts)) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*) FROM " + TickHistory.TABLE + " WHERE service = ? AND token = ?")) {
          ps.setString(1, s.name());
          ps.setLong(2, s.token());
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getLong(1) == 0) {
              return false;
            }
          }
        }
      }
    }
    return true;
  }

  private long lastTickId() throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM " + TickHistory.TABLE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Every service ticked throughout (the longest gap between two accepted ticks after {@code
   * fromId} is a handoff, not a failover), and no stale tick was accepted.
   */
  private void assertNoLongGapsAndSafe(long fromId) throws SQLException {
    Map<String, Long> longestGap = new TreeMap<>();
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT service, written_at FROM "
                    + TickHistory.TABLE
                    + " WHERE id > ? ORDER BY service, written_at")) {
      ps.setLong(1, fromId);
      try (ResultSet rs = ps.executeQuery()) {
        String service = null;
        long last = 0;
        while (rs.next()) {
          String s = rs.getString(1);
          long at = rs.getTimestamp(2).getTime();
          if (s.equals(service)) {
            longestGap.merge(s, at - last, Math::max);
          } else {
            longestGap.putIfAbsent(s, 0L);
          }
          service = s;
          last = at;
        }
      }
      assertThat(longestGap).as("services that ticked").hasSize(SERVICES);
      List<String> tooLong = new ArrayList<>();
      longestGap.forEach(
          (s, gap) -> {
            if (gap > MAX_TICK_GAP_MS) {
              tooLong.add(s + " " + gap + " ms");
            }
          });
      System.out.println("longest gap between accepted ticks per service, ms: " + longestGap);
      assertThat(tooLong)
          .as(
              "services with a gap between ticks over %d ms (logs in %s)",
              MAX_TICK_GAP_MS, fleet.logDir())
          .isEmpty();
      assertThat(TickHistory.violations(c, "")).as("fencing violations").isEmpty();
    }
  }
}
