package io.arbiter.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.ClusterStatus;
import io.arbiter.examples.buildfarm.BuildFarmWorkload;
import io.arbiter.examples.buildfarm.TickHistory;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Failover between real master processes ({@code arbiter master} in separate JVMs) sharing one
 * embedded PostgreSQL: a crash (kill -9), a freeze longer than the lease (SIGSTOP/SIGCONT) and a
 * clean stop (SIGTERM). What the masters did is read back from the database: the cluster status and
 * the fenced ticks in {@value BuildFarmWorkload#TABLE}. Master logs are kept in {@code
 * target/multi-process-failover/}.
 */
@Tag("slow")
class MultiProcessFailoverTest {
  private static final int SERVICES = 4;
  private static final Duration LEASE_TTL = Duration.ofSeconds(3);
  private static final Duration STARTUP = Duration.ofSeconds(45);
  private static final Duration POLL = Duration.ofMillis(25);

  private static TestDatabase db;
  private static JdbcArbiter arbiter;
  private static JdbcClusterStore store;

  @BeforeAll
  static void createDatabase() throws SQLException {
    db = TestDatabases.embeddedPostgres();
    // The schema and the tick table are created once here, as `arbiter demo` and `arbiter bench`
    // do: two masters creating them at the same moment on an empty database can collide
    // (PostgreSQL reports a duplicate pg_type entry and the loser fails for good), which is not
    // what these tests are about.
    try (JdbcArbiter setup =
        JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(LEASE_TTL).createSchema(true).build()) {
      setup.initializeSchema();
      BuildFarmWorkload.createTable(setup.dataSource(), setup.dialect());
    }
    arbiter = JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(LEASE_TTL).build();
    store = arbiter.clusterStore();
  }

  @AfterAll
  static void dropDatabase() {
    try {
      if (arbiter != null) {
        arbiter.close();
      }
    } finally {
      if (db != null) {
        db.close();
      }
    }
  }

  @Test
  void killDashNineOfTheOwnerMovesItsServicesWithinTheLease() throws Exception {
    String prefix = uniquePrefix("kill");
    try (MasterFleet fleet = new MasterFleet(logDir(prefix), DemoCommand.masterJvm())) {
      List<MasterProcess> masters = startTwoMasters(fleet, prefix);
      awaitAllOwnedAndTicking(prefix, masters);
      MasterProcess victim = busiest(prefix, masters);
      MasterProcess survivor = other(masters, victim);
      Map<String, Long> before = tokensOwnedBy(prefix, victim.name());
      assertThat(before).as("services of %s before the kill", victim.name()).isNotEmpty();
      // The lease cannot run out before this instant on the database's clock (the status reads
      // the time first and the lease after; renewals only push it later): nobody may be granted
      // the victim's services before it.
      ClusterStatus beforeKill = store.status();
      ClusterStatus.Member victimBefore = member(beforeKill, victim.name());
      Instant leaseEndsNoEarlierThan =
          beforeKill.databaseTime().plusMillis(Math.max(0, victimBefore.leaseLeftMillis()));

      long killedAt = System.nanoTime();
      victim.kill();
      assertThat(victim.isAlive()).as("%s after kill -9", victim.name()).isFalse();

      await("services of " + victim.name() + " moving to " + survivor.name())
          .atMost(LEASE_TTL.plusSeconds(15))
          .pollInterval(POLL)
          .until(() -> movedTo(prefix, before, survivor.name(), true));
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      System.out.printf(
          "kill -9: %d service(s) of %s moved to %s and ticked in %d ms%n",
          before.size(), victim.name(), survivor.name(), tookMillis);

      assertThat(tookMillis)
          .as(
              "ms from kill -9 of %s to a new owner ticking every one of its services %s (logs in"
                  + " %s)",
              victim.name(), before.keySet(), fleet.logDir())
          .isLessThanOrEqualTo(LEASE_TTL.toMillis() + 2_000);
      ClusterStatus after = store.status();
      for (String service : before.keySet()) {
        ClusterStatus.Service s = service(after, service);
        assertThat(s.owner()).as("owner of %s", service).startsWith(survivor.name() + "#");
        assertThat(s.token()).as("token of %s", service).isGreaterThan(before.get(service));
        assertThat(s.grantedAt())
            .as(
                "%s was granted to %s only after %s's lease (incarnation %d) ran out by the"
                    + " database clock",
                service, s.owner(), victim.name(), victimBefore.incarnation())
            .isAfterOrEqualTo(leaseEndsNoEarlierThan.minusMillis(5));
      }
      assertSafe(prefix);
    }
  }

  @Test
  void sigstopOfTheOwnerLongerThanTheLeaseIsFencedAfterSigcont() throws Exception {
    String prefix = uniquePrefix("stop");
    try (MasterFleet fleet = new MasterFleet(logDir(prefix), DemoCommand.masterJvm())) {
      List<MasterProcess> masters = startTwoMasters(fleet, prefix);
      awaitAllOwnedAndTicking(prefix, masters);
      MasterProcess frozen = busiest(prefix, masters);
      MasterProcess survivor = other(masters, frozen);
      Map<String, Long> oldTokens = tokensOwnedBy(prefix, frozen.name());
      assertThat(oldTokens).as("services of %s before SIGSTOP", frozen.name()).isNotEmpty();
      long oldIncarnation = member(store.status(), frozen.name()).incarnation();

      Map<String, Long> newTokens;
      long pausedAt = System.nanoTime();
      frozen.pause();
      try {
        try {
          await("services of frozen " + frozen.name() + " moving to " + survivor.name())
              .atMost(LEASE_TTL.plusSeconds(7))
              .pollInterval(POLL)
              .until(() -> movedTo(prefix, oldTokens, survivor.name(), true));
        } catch (ConditionTimeoutException e) {
          throw new AssertionError(
              survivor.name()
                  + " did not take over "
                  + oldTokens
                  + " while "
                  + frozen.name()
                  + " was frozen; status "
                  + services(store.status(), prefix)
                  + "; open transactions in the database: "
                  + openTransactions()
                  + " (logs in "
                  + fleet.logDir()
                  + ")",
              e);
        }
        newTokens = tokensOwnedBy(prefix, survivor.name());
        System.out.printf(
            "SIGSTOP: %d service(s) of %s moved to %s in %d ms: %s -> %s%n",
            oldTokens.size(),
            frozen.name(),
            survivor.name(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pausedAt),
            oldTokens,
            newTokens);
        // Stay frozen for about 5 s in all, well past the 3 s lease.
        long frozenMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pausedAt);
        if (frozenMillis < 5_000) {
          Thread.sleep(5_000 - frozenMillis);
        }
        assertThat(frozen.isAlive()).as("%s is frozen, not dead", frozen.name()).isTrue();
        assertThat(tokensOwnedBy(prefix, frozen.name()))
            .as("services %s still owns while frozen", frozen.name())
            .isEmpty();
      } finally {
        frozen.resume();
      }
      for (String service : oldTokens.keySet()) {
        assertThat(newTokens.get(service))
            .as("token of %s taken over by %s", service, survivor.name())
            .isNotNull()
            .isGreaterThan(oldTokens.get(service));
      }

      // (a) the woken master says, on one WARN line, which service it lost and both tokens.
      await("a WARN line in " + frozen.log() + " naming a lost service and both of its tokens")
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> warnsAboutStaleToken(frozen.logText(), oldTokens, newTokens));

      // (b) it rejoined as a new incarnation.
      await(frozen.name() + " rejoining as a new incarnation")
          .atMost(Duration.ofSeconds(10))
          .pollInterval(POLL)
          .untilAsserted(
              () -> {
                ClusterStatus.Member m = member(store.status(), frozen.name());
                assertThat(m.state()).as("state of %s", frozen.name()).isEqualTo("ACTIVE");
                assertThat(m.incarnation())
                    .as("incarnation of %s", frozen.name())
                    .isEqualTo(oldIncarnation + 1)
                    .isEqualTo(2);
                assertThat(m.leaseLeftMillis()).isPositive();
              });

      // Back in, the old master may get some services back from the balancer, but only by a new
      // grant: no service ever goes back to a token it had before the freeze.
      ClusterStatus afterRejoin = store.status();
      for (String service : oldTokens.keySet()) {
        assertThat(service(afterRejoin, service).token())
            .as("token of %s after %s rejoined", service, frozen.name())
            .isGreaterThanOrEqualTo(newTokens.get(service));
      }

      // (c) and (d): no stale tick was accepted.
      assertSafe(prefix);
      try (Connection c = db.connect()) {
        for (String service : oldTokens.keySet()) {
          long oldToken = oldTokens.get(service);
          long newToken = newTokens.get(service);
          long[] oldIds = tickIdRange(c, service, oldToken);
          long[] newIds = tickIdRange(c, service, newToken);
          assertThat(oldIds).as("ticks of %s with old token %d", service, oldToken).isNotNull();
          assertThat(newIds).as("ticks of %s with new token %d", service, newToken).isNotNull();
          assertThat(oldIds[1])
              .as(
                  "last tick id of %s with old token %d (by %s) must come before the first with"
                      + " new token %d",
                  service, oldToken, frozen.name(), newToken)
              .isLessThan(newIds[0]);
        }
      }
    }
  }

  @Test
  void cleanStopHandsOffAtOnce() throws Exception {
    String prefix = uniquePrefix("term");
    try (MasterFleet fleet = new MasterFleet(logDir(prefix), DemoCommand.masterJvm())) {
      List<MasterProcess> masters = startTwoMasters(fleet, prefix);
      awaitAllOwnedAndTicking(prefix, masters);
      MasterProcess stopped = busiest(prefix, masters);
      MasterProcess survivor = other(masters, stopped);
      Map<String, Long> before = tokensOwnedBy(prefix, stopped.name());
      assertThat(before).as("services of %s before SIGTERM", stopped.name()).isNotEmpty();

      assertThat(stopped.stop(10_000))
          .as("%s exited within 10 s of SIGTERM (log %s)", stopped.name(), stopped.log())
          .isTrue();
      long exitedAt = System.nanoTime();

      await("services of stopped " + stopped.name() + " moving to " + survivor.name())
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(10))
          .until(() -> movedTo(prefix, before, survivor.name(), false));
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - exitedAt);
      System.out.printf(
          "SIGTERM: %d service(s) of %s owned by %s %d ms after its exit%n",
          before.size(), stopped.name(), survivor.name(), tookMillis);
      assertThat(tookMillis)
          .as(
              "ms from the exit of %s to %s owning all of %s (logs in %s)",
              stopped.name(), survivor.name(), before.keySet(), fleet.logDir())
          .isLessThanOrEqualTo(1_000);

      assertThat(member(store.status(), stopped.name()).state())
          .as("state of %s after a clean stop", stopped.name())
          .isEqualTo("STOPPED");
      // The new owner really runs them: ticks accepted under the new tokens.
      await("ticks of " + survivor.name() + " under the new tokens")
          .atMost(Duration.ofSeconds(5))
          .pollInterval(POLL)
          .until(() -> movedTo(prefix, before, survivor.name(), true));
      assertSafe(prefix);
    }
  }

  // ---- helpers ----

  private static String uniquePrefix(String test) {
    return test + UUID.randomUUID().toString().substring(0, 6) + "-";
  }

  private static Path logDir(String prefix) {
    return Path.of("target", "multi-process-failover", prefix).toAbsolutePath();
  }

  private static List<MasterProcess> startTwoMasters(MasterFleet fleet, String prefix)
      throws IOException {
    List<String> args =
        List.of(
            "--db",
            db.jdbcUrl(),
            "--services",
            String.valueOf(SERVICES),
            "--service-prefix",
            prefix,
            "--tick",
            "100ms");
    List<MasterProcess> masters = new ArrayList<>();
    masters.add(fleet.start(prefix + "a", args));
    masters.add(fleet.start(prefix + "b", args));
    return masters;
  }

  /**
   * Waits until both masters hold a live lease, every service is owned and each has an accepted
   * tick under its current token.
   */
  private static void awaitAllOwnedAndTicking(String prefix, List<MasterProcess> masters) {
    await(
            "both masters active, "
                + SERVICES
                + " services owned and ticking (prefix "
                + prefix
                + ")")
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions() // a status read while the masters start may fail
        .untilAsserted(
            () -> {
              for (MasterProcess m : masters) {
                assertThat(m.isAlive()).as("%s is running (log %s)", m.name(), m.log()).isTrue();
              }
              ClusterStatus status = store.status();
              for (MasterProcess m : masters) {
                ClusterStatus.Member member = member(status, m.name());
                assertThat(member.state()).isEqualTo("ACTIVE");
                assertThat(member.leaseLeftMillis()).isPositive();
              }
              List<ClusterStatus.Service> services = services(status, prefix);
              assertThat(services).hasSize(SERVICES);
              try (Connection c = db.connect()) {
                for (ClusterStatus.Service s : services) {
                  assertThat(s.owner()).as("owner of %s", s.name()).isNotNull();
                  assertThat(tickCount(c, s.name(), s.token()))
                      .as("ticks of %s with token %d", s.name(), s.token())
                      .isPositive();
                }
              }
            });
  }

  /**
   * True once every service in {@code before} is owned by {@code newOwner} under a higher token,
   * and, if {@code ticked}, has an accepted tick under that token.
   */
  private static boolean movedTo(
      String prefix, Map<String, Long> before, String newOwner, boolean ticked)
      throws SQLException {
    ClusterStatus status = store.status();
    try (Connection c = db.connect()) {
      for (Map.Entry<String, Long> e : before.entrySet()) {
        ClusterStatus.Service s = service(status, e.getKey());
        if (s.owner() == null
            || !s.owner().startsWith(newOwner + "#")
            || s.token() <= e.getValue()
            || (ticked && tickCount(c, s.name(), s.token()) == 0)) {
          return false;
        }
      }
    }
    return true;
  }

  /** The services {@code memberName} (any incarnation) owns, with their tokens. */
  private static Map<String, Long> tokensOwnedBy(String prefix, String memberName) {
    Map<String, Long> tokens = new LinkedHashMap<>();
    for (ClusterStatus.Service s : services(store.status(), prefix)) {
      if (s.owner() != null && s.owner().startsWith(memberName + "#")) {
        tokens.put(s.name(), s.token());
      }
    }
    return tokens;
  }

  private static MasterProcess busiest(String prefix, List<MasterProcess> masters) {
    return masters.stream()
        .max(Comparator.comparingInt(m -> tokensOwnedBy(prefix, m.name()).size()))
        .orElseThrow();
  }

  private static MasterProcess other(List<MasterProcess> masters, MasterProcess one) {
    return masters.stream().filter(m -> m != one).findFirst().orElseThrow();
  }

  private static ClusterStatus.Member member(ClusterStatus status, String name) {
    return status.members().stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no member " + name + " in " + status.members()));
  }

  private static List<ClusterStatus.Service> services(ClusterStatus status, String prefix) {
    return status.services().stream().filter(s -> s.name().startsWith(prefix)).toList();
  }

  private static ClusterStatus.Service service(ClusterStatus status, String name) {
    return status.services().stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no service " + name + " in " + status.services()));
  }

  private static long tickCount(Connection c, String service, long token) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT COUNT(*) FROM "
                + BuildFarmWorkload.TABLE
                + " WHERE service = ? AND token = ?")) {
      ps.setString(1, service);
      ps.setLong(2, token);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** {min(id), max(id)} of the accepted ticks of {@code service} under {@code token}, or null. */
  private static long[] tickIdRange(Connection c, String service, long token) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM "
                + BuildFarmWorkload.TABLE
                + " WHERE service = ? AND token = ?")) {
      ps.setString(1, service);
      ps.setLong(2, token);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(3) == 0 ? null : new long[] {rs.getLong(1), rs.getLong(2)};
      }
    }
  }

  /**
   * The other sessions on the test database with a transaction open, and what they wait for: a
   * frozen master caught inside a fenced write shows up here "idle in transaction", holding the
   * share lock on its service's row that a claim must wait for.
   */
  private static List<String> openTransactions() {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT a.pid, a.application_name, a.state, a.wait_event_type, a.wait_event,"
                    + " CAST(EXTRACT(EPOCH FROM (clock_timestamp() - a.xact_start)) * 1000 AS"
                    + " BIGINT) AS xact_ms, a.query, (SELECT string_agg(l.mode || CASE WHEN"
                    + " l.granted THEN '' ELSE ' (waiting)' END, ', ') FROM pg_locks l WHERE"
                    + " l.pid = a.pid AND l.relation = 'arbiter_service'::regclass) AS"
                    + " service_locks FROM pg_stat_activity a WHERE a.datname ="
                    + " current_database() AND a.pid <> pg_backend_pid() AND a.xact_start IS"
                    + " NOT NULL ORDER BY a.xact_start");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            String.format(
                "[pid %d %s: %s for %d ms, wait %s/%s, locks on arbiter_service: %s, last"
                    + " query: %s]",
                rs.getLong("pid"),
                rs.getString("application_name"),
                rs.getString("state"),
                rs.getLong("xact_ms"),
                rs.getString("wait_event_type"),
                rs.getString("wait_event"),
                rs.getString("service_locks"),
                rs.getString("query")));
      }
    } catch (SQLException e) {
      out.add("(could not read pg_stat_activity: " + e.getMessage() + ")");
    }
    return out;
  }

  /** No stale tick accepted, and the masters did accept ticks. */
  private static void assertSafe(String prefix) throws SQLException {
    try (Connection c = db.connect()) {
      assertThat(TickHistory.violations(c, prefix)).as("fencing violations").isEmpty();
      assertThat(TickHistory.count(c, prefix)).as("accepted ticks").isPositive();
    }
  }

  private static final Pattern TOKEN_NUMBER = Pattern.compile("\\btoken (?:is )?(\\d+)\\b");

  /**
   * Whether some WARN line names one of the lost services and both its old and its new token (in
   * "token N" / "token is N" form, so timestamps and incarnations do not count).
   */
  static boolean warnsAboutStaleToken(
      String log, Map<String, Long> oldTokens, Map<String, Long> newTokens) {
    for (String line : log.split("\\R")) {
      if (!line.contains(" WARN ")) {
        continue;
      }
      for (String service : oldTokens.keySet()) {
        Matcher named =
            Pattern.compile("service " + Pattern.quote(service) + "(?![A-Za-z0-9._-])")
                .matcher(line);
        if (!named.find()) {
          continue;
        }
        Set<Long> numbers = new TreeSet<>();
        Matcher m = TOKEN_NUMBER.matcher(line.substring(named.end()));
        while (m.find()) {
          numbers.add(Long.parseLong(m.group(1)));
        }
        if (numbers.contains(oldTokens.get(service))
            && newTokens.get(service) != null
            && numbers.contains(newTokens.get(service))) {
          return true;
        }
      }
    }
    return false;
  }
}
