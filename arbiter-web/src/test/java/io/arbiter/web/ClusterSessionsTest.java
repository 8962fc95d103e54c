package io.arbiter.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.InvalidConfigException;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.InvalidSessionDataException;
import io.arbiter.sessions.Session;
import io.arbiter.sessions.SessionConfig;
import io.arbiter.testkit.CountingSessionStore;
import io.arbiter.testkit.ManualTicker;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ClusterSessions} on a real database with a manual clock for its cache: what it serves from
 * memory, when it reads the database again, and how many statements it sends.
 */
class ClusterSessionsTest {
  private static TestDatabase db;

  private final ManualTicker ticker = new ManualTicker();
  private final List<AutoCloseable> opened = new ArrayList<>();
  private final List<JdbcArbiter> arbiters = new ArrayList<>();

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
  }

  @AfterEach
  void closeAllAndEmptyTheTable() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
    for (JdbcArbiter arbiter : arbiters) {
      arbiter.close(); // after the sessions: their pools
    }
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("DELETE FROM arbiter_session"); // purge counts must see only their own
    }
  }

  /** A store on a pool of its own, as each master has; it runs no member, so no heartbeat pool. */
  private CountingSessionStore store() {
    JdbcArbiter arbiter =
        JdbcArbiter.builder(db.jdbcUrl())
            .poolSize(10)
            .heartbeatPoolSize(0)
            .createSchema(true)
            .build();
    arbiters.add(arbiter);
    return new CountingSessionStore(arbiter.sessionStore());
  }

  private ClusterSessions sessions(CountingSessionStore store, SessionConfig.Builder config) {
    ClusterSessions s = ClusterSessions.create(store, config.ticker(ticker).build());
    opened.add(s);
    return s;
  }

  @Test
  void aValidatedSessionIsServedFromMemoryOnlyWithinTheStalenessBound() {
    CountingSessionStore storeA = store();
    CountingSessionStore storeB = store();
    ClusterSessions a = sessions(storeA, SessionConfig.builder());
    ClusterSessions b = sessions(storeB, SessionConfig.builder());
    Session s = a.login("alice");

    for (int i = 0; i < 100; i++) {
      assertThat(b.find(s.id())).map(Session::principal).contains("alice");
    }
    assertThat(storeB.reads.get()).as("one read, then the cache").isEqualTo(1);
    assertThat(b.stats().cacheHits()).isEqualTo(99);

    assertThat(a.invalidate(s.id())).isTrue();
    assertThat(a.find(s.id())).as("the master that logged out refuses at once").isEmpty();
    ticker.advance(SessionConfig.DEFAULT_STALENESS.minusMillis(1));
    assertThat(b.find(s.id())).as("b may still trust its read, inside the bound").isPresent();
    ticker.advance(Duration.ofMillis(1));
    assertThat(b.find(s.id())).as("b reads again at the bound and refuses").isEmpty();
    assertThat(storeB.reads.get()).isEqualTo(2);
  }

  @Test
  void aBusySessionIsTouchedAtMostOncePerTouchInterval() throws Exception {
    CountingSessionStore store = store();
    ClusterSessions sessions =
        sessions(
            store,
            SessionConfig.builder()
                .idleTimeout(Duration.ofMinutes(10))
                .staleness(Duration.ofMinutes(5))); // no re-reads in this test
    assertThat(sessions.config().touchInterval()).isEqualTo(Duration.ofMinutes(1));
    Session s = sessions.login("bob");

    for (int i = 0; i < 100; i++) {
      assertThat(sessions.touchIfDue(s.id())).isTrue();
    }
    ticker.advance(Duration.ofSeconds(59));
    assertThat(sessions.touchIfDue(s.id())).isTrue();
    assertThat(store.touches.get()).isZero();

    ticker.advance(Duration.ofSeconds(2));
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(
            pool.submit(
                () -> {
                  go.await();
                  return sessions.touchIfDue(s.id());
                }));
      }
      go.countDown();
      for (Future<Boolean> r : results) {
        assertThat(r.get(30, TimeUnit.SECONDS)).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.touches.get())
        .as("concurrent requests of one session: one UPDATE")
        .isEqualTo(1);
    ticker.advance(Duration.ofSeconds(30));
    sessions.touchIfDue(s.id());
    assertThat(store.touches.get()).isEqualTo(1);
    ticker.advance(Duration.ofSeconds(31));
    sessions.touchIfDue(s.id());
    assertThat(store.touches.get()).isEqualTo(2);
  }

  @Test
  void aCachedSessionIsNeverServedPastItsExpiry() throws InterruptedException {
    CountingSessionStore store = store();
    ClusterSessions sessions =
        sessions(
            store,
            SessionConfig.builder()
                .idleTimeout(Duration.ofMillis(300))
                .staleness(Duration.ofMinutes(5)));
    Session s = sessions.login("carol");
    assertThat(sessions.find(s.id())).isPresent();

    Thread.sleep(500); // the database's clock passes the expiry...
    ticker.advance(Duration.ofMillis(500)); // ...and so does the cache's
    assertThat(sessions.find(s.id())).isEmpty();
    assertThat(sessions.touchIfDue(s.id())).isFalse();
  }

  @Test
  void purgeRunsBoundedBatches() throws InterruptedException {
    CountingSessionStore store = store();
    ClusterSessions sessions =
        sessions(
            store,
            SessionConfig.builder()
                .idleTimeout(Duration.ofMillis(200))
                .purgeBatchSize(2)
                .purgeMaxBatches(2));
    for (int i = 0; i < 5; i++) {
      sessions.login("purge" + i);
    }
    Thread.sleep(400);

    assertThat(sessions.purgeExpired()).isEqualTo(4);
    assertThat(store.purges.get()).isEqualTo(2);
    assertThat(sessions.purgeExpired()).isEqualTo(1);
    assertThat(sessions.purgeExpired()).isZero();
    assertThat(sessions.stats().purged()).isEqualTo(5);
  }

  @Test
  void attributesWrittenOnOneMasterAreReadOnAnother() {
    ClusterSessions a = sessions(store(), SessionConfig.builder());
    ClusterSessions b = sessions(store(), SessionConfig.builder());
    Session s = a.login("dora");
    assertThat(b.find(s.id()).orElseThrow().attributes()).isEmpty();

    assertThat(a.setAttribute(s.id(), "cart", "[1,2]")).isTrue();
    assertThat(a.find(s.id()).orElseThrow().attribute("cart")).isEqualTo("[1,2]");
    ticker.advance(SessionConfig.DEFAULT_STALENESS);
    assertThat(b.find(s.id()).orElseThrow().attribute("cart")).isEqualTo("[1,2]");
    assertThatThrownBy(() -> a.setAttribute(s.id(), "cart", "x".repeat(10_000)))
        .isInstanceOf(InvalidSessionDataException.class)
        .hasMessageContaining("attribute 'cart'")
        .hasMessageContaining("at most 8192 characters");
  }

  @Test
  void badConfigIsRefusedNamingTheField() {
    assertThatThrownBy(
            () ->
                SessionConfig.builder()
                    .idleTimeout(Duration.ofMinutes(1))
                    .touchInterval(Duration.ofMinutes(1))
                    .build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("touchInterval")
        .hasMessageContaining("smaller than idleTimeout");
    assertThatThrownBy(() -> SessionConfig.builder().cookieName("bad name;").build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("cookieName");
    assertThatThrownBy(() -> SessionConfig.builder().idleTimeout(Duration.ofMillis(5)).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("idleTimeout");
  }
}
