package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.FencingToken;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.MemberId;
import io.arbiter.ServiceContext;
import io.arbiter.StoreUnavailableException;
import io.arbiter.spi.MemberInfo;
import io.arbiter.testkit.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A master frozen inside a fenced write holds a share lock on its service's row. That must cost the
 * cluster at most that one service, for at most about one lease: other services of the frozen
 * master are claimed at once, and nobody waits behind the claim. Subclassed per database.
 */
abstract class FrozenFencedWriterContract {
  private static final Duration TTL = Duration.ofSeconds(2);

  private final List<AutoCloseable> resources = new ArrayList<>();

  protected abstract TestDatabase database();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  private JdbcArbiter arbiter() {
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(database().jdbcUrl()).leaseTtl(TTL).createSchema(true).build());
    arbiter.clusterStore().initialize();
    return arbiter;
  }

  @Test
  void aFrozenFencedWriterCostsOnlyItsOwnServiceAndNoOneWaitsBehindTheClaim() throws Exception {
    JdbcArbiter arbiter = arbiter();
    JdbcClusterStore store = arbiter.clusterStore();
    String prefix = "frozen-" + System.nanoTime() + "-";
    List<String> services = List.of(prefix + "a", prefix + "b", prefix + "c");
    store.register(services);
    MemberInfo info = MemberInfo.ofThisProcess();
    MemberId frozen = store.join(prefix + "frozen", TTL, Optional.empty(), info);
    List<FencingToken> grants = store.claim(frozen, services);
    assertThat(grants).hasSize(3);

    // The frozen master's write on service a: its transaction is open, share-locking a's row.
    try (Connection writer = database().connect()) {
      writer.setAutoCommit(false);
      arbiter.fence().check(writer, grants.get(0));

      MemberId survivor = store.join(prefix + "survivor", TTL, Optional.empty(), info);
      await()
          .atMost(TTL.multipliedBy(3))
          .until(
              () -> {
                store.heartbeat(survivor, TTL);
                return store.expireOverdueMembers() > 0;
              });

      long started = System.nanoTime();
      List<FencingToken> won = store.claim(survivor, services);
      long claimMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(won)
          .as("grants of the survivor's claim while service a's row is share-locked")
          .extracting(FencingToken::service)
          .containsExactlyInAnyOrder(prefix + "b", prefix + "c");
      assertThat(claimMillis).as("ms the claim took (it must not wait on a's row)").isLessThan(900);

      // A claim that finds only the locked row holds nothing: a join goes through at once.
      CompletableFuture<List<FencingToken>> claimA =
          CompletableFuture.supplyAsync(() -> store.claim(survivor, List.of(prefix + "a")));
      Thread.sleep(100); // let the claim reach the database (a join before it proves nothing)
      started = System.nanoTime();
      store.join(prefix + "third", TTL, Optional.empty(), info);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
          .as("ms a join took while a claim met the locked row")
          .isLessThan(500);
      assertThat(claimA.get(10, TimeUnit.SECONDS)).as("claim of the locked service").isEmpty();

      writer.rollback();
    }
  }

  /**
   * The fence ends a fenced transaction idle for the lease TTL the members joined with, not the TTL
   * the arbiter was built with (the default, 10 s, when the builder was not given the cluster's
   * config): a frozen writer must cost its service about one lease.
   */
  @Test
  void anIdleFencedTransactionEndsAfterTheMembersLeaseNotTheBuildersDefault() throws Exception {
    JdbcArbiter arbiter =
        closeLater(JdbcArbiter.builder(database().jdbcUrl()).createSchema(true).build());
    Duration memberTtl = Duration.ofSeconds(1);
    Duration idle = memberTtl.multipliedBy(2).plusMillis(500);
    assertThat(arbiter.leaseTtl()).isGreaterThan(idle);
    JdbcClusterStore store = arbiter.clusterStore();
    store.initialize();
    String service = "idle-" + System.nanoTime();
    store.register(List.of(service));
    MemberId member =
        store.join(service + "-m", memberTtl, Optional.empty(), MemberInfo.ofThisProcess());
    FencingToken token = store.claim(member, List.of(service)).get(0);
    ServiceContext context = context(token);

    assertThatThrownBy(
            () ->
                arbiter
                    .fence()
                    .write(
                        context,
                        c -> {
                          freeze(idle);
                          try (Statement st = c.createStatement()) {
                            return st.execute("SELECT 1");
                          }
                        }))
        .as("a fenced write idle for twice the members' lease TTL")
        .isInstanceOf(SQLException.class);
  }

  private static void freeze(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ServiceContext context(FencingToken token) {
    return new ServiceContext() {
      @Override
      public String serviceName() {
        return token.service();
      }

      @Override
      public MemberId member() {
        return token.holder();
      }

      @Override
      public FencingToken token() {
        return token;
      }

      @Override
      public boolean isActive() {
        return true;
      }

      @Override
      public void fencingRejected(FencingTokenRejectedException rejection) {}
    };
  }

  /**
   * A store made on the application's own pool bounds its lock waits as Arbiter's pools do (a
   * release behind a frozen writer's lock fails after about a second and is tried again, instead of
   * hanging), and gives the connections back with the application's settings.
   */
  @Test
  void aStoreOnTheCallersPoolBoundsItsLockWaitsAndGivesItsConnectionsBackAsTheyWere()
      throws Exception {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(database().jdbcUrl());
    hc.setMaximumPoolSize(4);
    HikariDataSource pool = closeLater(new HikariDataSource(hc));
    String before = lockWaitSetting(pool);
    JdbcArbiter arbiter =
        closeLater(JdbcArbiter.builder(pool).leaseTtl(TTL).createSchema(true).build());
    JdbcClusterStore store = arbiter.clusterStore();
    store.initialize();
    String service = "callers-pool-" + System.nanoTime();
    store.register(List.of(service));
    MemberId member = store.join(service + "-m", TTL, Optional.empty(), MemberInfo.ofThisProcess());
    FencingToken token = store.claim(member, List.of(service)).get(0);

    try (Connection writer = database().connect()) {
      writer.setAutoCommit(false);
      arbiter.fence().check(writer, token);
      CompletableFuture<Boolean> release =
          CompletableFuture.supplyAsync(() -> store.release(token));
      assertThatThrownBy(() -> release.get(5, TimeUnit.SECONDS))
          .as("a release waiting on the writer's lock, through the application's pool")
          .hasCauseInstanceOf(StoreUnavailableException.class);
      writer.rollback();
    }
    assertThat(store.release(token)).isTrue();
    assertThat(lockWaitSetting(pool))
        .as("the pool's lock wait setting after Arbiter used it")
        .isEqualTo(before);
  }

  private String lockWaitSetting(DataSource pool) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement();
        var rs =
            st.executeQuery(
                database().isPostgres()
                    ? "SHOW lock_timeout"
                    : "SELECT @@SESSION.innodb_lock_wait_timeout")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void checkRefusesAnAutoCommitConnection() throws Exception {
    JdbcArbiter arbiter = arbiter();
    JdbcClusterStore store = arbiter.clusterStore();
    String service = "autocommit-" + System.nanoTime();
    store.register(List.of(service));
    MemberId member = store.join(service + "-m", TTL, Optional.empty(), MemberInfo.ofThisProcess());
    FencingToken token = store.claim(member, List.of(service)).get(0);
    try (Connection c = database().connect()) {
      c.setAutoCommit(true);
      assertThatThrownBy(() -> arbiter.fence().check(c, token))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("auto-commit");
    }
  }
}
