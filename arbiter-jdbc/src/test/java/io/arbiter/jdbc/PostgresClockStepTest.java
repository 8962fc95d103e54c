package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterConfig;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A forward step of PostgreSQL's clock, seen by two masters. The database's clock is {@code
 * clock_timestamp()} plus an offset the test sets (the dialect's SQL calls a function instead of
 * {@code clock_timestamp()}), so the step reaches only the database, as an NTP correction on its
 * host would. The owner renews every 2 s, the other master every 200 ms: right after the step the
 * owner's lease has run out by the database's clock while its own clock still gives it time, and
 * the other master renews first. It must not expire the owner and start the service while the owner
 * still runs it.
 */
class PostgresClockStepTest {
  private static final Duration TTL = Duration.ofSeconds(4);
  private static final Duration STEP = Duration.ofSeconds(3);
  private static TestDatabase db;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();

  @BeforeAll
  static void createDatabase() throws Exception {
    db = TestDatabases.embeddedPostgres();
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE test_clock_step (step_ms BIGINT NOT NULL)");
      st.execute("INSERT INTO test_clock_step VALUES (0)");
      st.execute(
          "CREATE FUNCTION test_now() RETURNS TIMESTAMPTZ LANGUAGE sql VOLATILE AS $$ SELECT"
              + " clock_timestamp() + (SELECT step_ms FROM test_clock_step) * INTERVAL '1"
              + " millisecond' $$");
    }
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
  }

  @Test
  void aMasterThatRenewedAfterAStepDoesNotTakeAServiceItsOwnerStillRuns() throws Exception {
    Cluster owner = master("owner", Duration.ofSeconds(2));
    assertThat(owner.awaitActive(Duration.ofSeconds(10))).isTrue();
    Cluster other = master("other", Duration.ofMillis(200));
    assertThat(other.awaitActive(Duration.ofSeconds(10))).isTrue();
    ClusterAdmin admin = new ClusterAdmin(closeLater(arbiter(TTL)).clusterStore());
    admin.move("svc", "owner");
    await().atMost(Duration.ofSeconds(15)).until(() -> owner.runningServices().contains("svc"));

    // Step when the owner's last renewal is 1.05-1.3 s old by the database's clock: the step makes
    // its lease overdue there, its own clock gives it more than 2 s, and its next renewal is more
    // than 0.7 s away, while the other renews within 200 ms.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> ownerRenewalAgeMillis() >= 1_050 && ownerRenewalAgeMillis() <= 1_300);
    step(STEP);
    Thread.sleep(600);
    assertThat(other.runningServices())
        .as("svc started on the other master while its owner still ran it on its own lease")
        .isEmpty();

    // The owner's next renewal fails (its lease ran out by the database's clock): it stops svc and
    // rejoins as a new incarnation.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> owner.member().map(m -> m.incarnation() > 1).orElse(false));
    // One lease later, one of them runs it again.
    await()
        .atMost(TTL.multipliedBy(3))
        .until(
            () ->
                owner.runningServices().contains("svc") ^ other.runningServices().contains("svc"));
    assertThat(ledger.overlaps()).as("moments with two masters running svc").isEmpty();
  }

  private Cluster master(String name, Duration renewInterval) {
    ClusterConfig config =
        ClusterConfig.builder(name)
            .leaseTtl(TTL)
            .renewInterval(renewInterval)
            .selfFenceMargin(Duration.ofMillis(500))
            .build();
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl())
                .clusterConfig(config)
                .dialect(steppedClock(new PostgresDialect()))
                .createSchema(true)
                .build());
    Cluster c =
        closeLater(
            Cluster.builder(arbiter.clusterStore(), config)
                .service("svc", new RecordingService(ledger))
                .build());
    c.start();
    return c;
  }

  private JdbcArbiter arbiter(Duration ttl) {
    return JdbcArbiter.builder(db.jdbcUrl())
        .leaseTtl(ttl)
        .dialect(steppedClock(new PostgresDialect()))
        .build();
  }

  /** The dialect with every reading of the clock going through {@code test_now()}. */
  private static Dialect steppedClock(Dialect real) {
    return (Dialect)
        Proxy.newProxyInstance(
            Dialect.class.getClassLoader(),
            new Class<?>[] {Dialect.class},
            (proxy, method, args) -> {
              Object result;
              try {
                result = method.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              return result instanceof String s
                  ? s.replace("clock_timestamp()", "test_now()")
                  : result;
            });
  }

  private static long ownerRenewalAgeMillis() throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT CAST(EXTRACT(EPOCH FROM (test_now() - renewed_at)) * 1000 AS BIGINT)"
                    + " FROM arbiter_member WHERE name = 'owner'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void step(Duration by) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("UPDATE test_clock_step SET step_ms = step_ms + ?")) {
      ps.setLong(1, by.toMillis());
      ps.executeUpdate();
    }
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }
}
