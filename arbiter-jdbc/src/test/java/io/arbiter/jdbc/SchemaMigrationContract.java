package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.ArbiterException;
import io.arbiter.MemberId;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.MemberInfo;
import io.arbiter.testkit.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Schema migrations on Flyway, on each database: a new database, one shared with the application's
 * tables, databases left by Arbiter 0.1 and 0.2 (baselined from their own version record, rows
 * kept), a schema from a newer Arbiter (refused), a missing schema without permission to create it,
 * and masters migrating at the same moment. Each test gets a fresh database.
 */
abstract class SchemaMigrationContract {
  private static final Duration TTL = Duration.ofSeconds(3);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private TestDatabase db;

  /** A fresh database on this class's server. */
  protected abstract TestDatabase freshDatabase();

  private TestDatabase db() {
    if (db == null) {
      db = freshDatabase();
    }
    return db;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    if (db != null) {
      db.close();
    }
  }

  private JdbcArbiter arbiter(boolean createSchema) {
    JdbcArbiter arbiter =
        JdbcArbiter.builder(db().jdbcUrl()).leaseTtl(TTL).createSchema(createSchema).build();
    resources.add(arbiter);
    return arbiter;
  }

  private Dialect dialect() {
    return Dialect.forUrl(db().jdbcUrl());
  }

  @Test
  void aNewDatabaseGetsBothMigrationsAndTheirHistory() throws Exception {
    arbiter(true).initializeSchema();
    assertThat(history()).containsExactly("0 BASELINE", "1 SQL", "2 SQL", "3 SQL");
    assertThat(legacyVersion()).as("the 0.2 record is kept up too").isEqualTo(3);
    assertMemberCanJoinAndRenew();
  }

  @Test
  void aDatabaseSharedWithTheApplicationsTablesGetsBothMigrations() throws Exception {
    execute("CREATE TABLE builds (id INT PRIMARY KEY, status VARCHAR(16))");
    execute("INSERT INTO builds VALUES (42, 'green')");
    arbiter(true).initializeSchema();
    assertThat(history())
        .as("a baseline below V1, then V1, V2 and V3")
        .containsExactly("0 BASELINE", "1 SQL", "2 SQL", "3 SQL");
    assertThat(count("SELECT COUNT(*) FROM builds")).as("the application's rows").isEqualTo(1);
    assertMemberCanJoinAndRenew();
  }

  @Test
  void aDatabaseLeftByArbiterZeroTwoIsBaselinedAtTwoAndMigratedWithItsRowsKept() throws Exception {
    try (Connection c = db().connect()) {
      LegacySchema.create(c, dialect(), 2);
    }
    execute(
        "INSERT INTO arbiter_member (name, incarnation, state, lease_expires, joined_at,"
            + " renewed_at, host, pid, capacity, tags) VALUES ('old', 7, 'STOPPED',"
            + " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'h', 1, 2, 'web')");
    execute("INSERT INTO arbiter_service (name, token, weight) VALUES ('poller', 41, 3)");
    execute(
        "INSERT INTO arbiter_session (id_hash, principal, created_at, last_access_at,"
            + " max_inactive_ms, expires_at) VALUES ('h1', 'alice', CURRENT_TIMESTAMP,"
            + " CURRENT_TIMESTAMP, 1000, CURRENT_TIMESTAMP)");

    // Version 2 purged events without a record: here 1..2 are gone, 3..5 left.
    execute("UPDATE arbiter_event_head SET last_seq = 5 WHERE id = 1");
    for (int seq = 3; seq <= 5; seq++) {
      execute(
          "INSERT INTO arbiter_event (seq, topic, publisher, created_at) VALUES ("
              + seq
              + ", 't', 'old', CURRENT_TIMESTAMP)");
    }

    // A master not allowed to create the schema stops and names the script to run.
    assertThatThrownBy(() -> arbiter(false).initializeSchema())
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("is version 2")
        .hasMessageContaining("V3__arbiter.sql");
    assertThat(tableExists(SchemaMigrations.HISTORY_TABLE)).isFalse();

    JdbcArbiter arbiter = arbiter(true);
    arbiter.initializeSchema();
    assertThat(history()).containsExactly("2 BASELINE", "3 SQL");
    assertThat(arbiter.eventStore().purgedThrough())
        .as("V3 takes what version 2 purged as the first watermark")
        .isEqualTo(2);
    assertThat(arbiter.eventStore().read(0, 10)).hasSize(3);
    JdbcClusterStore store = arbiter.clusterStore();
    MemberId old = store.join("old", TTL, Optional.empty(), new MemberInfo("h", 2));
    assertThat(old.incarnation()).as("the incarnation counts on").isEqualTo(8);
    assertThat(store.heartbeat(old, TTL).renewed()).isTrue();
    ClusterFacts facts = store.facts();
    assertThat(facts.services())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.token()).isEqualTo(41);
              assertThat(s.spec().weight()).isEqualTo(3.0);
            });
    assertThat(store.claim(old, List.of("poller")))
        .singleElement()
        .satisfies(t -> assertThat(t.value()).as("tokens count on").isEqualTo(42));
    assertThat(count("SELECT COUNT(*) FROM arbiter_session")).isEqualTo(1);

    arbiter(true).initializeSchema(); // and again: nothing to do
    assertThat(history()).containsExactly("2 BASELINE", "3 SQL");
  }

  @Test
  void aDatabaseLeftByArbiterZeroOneIsBaselinedAtOneAndMigratedToTheCurrentVersion()
      throws Exception {
    try (Connection c = db().connect()) {
      LegacySchema.create(c, dialect(), 1);
    }
    execute("INSERT INTO arbiter_service (name, token) VALUES ('poller', 17)");
    arbiter(true).initializeSchema();
    assertThat(history()).containsExactly("1 BASELINE", "2 SQL", "3 SQL");
    assertThat(legacyVersion()).isEqualTo(3);
    assertThat(arbiter(false).clusterStore().facts().services())
        .singleElement()
        .satisfies(s -> assertThat(s.token()).isEqualTo(17));
    assertMemberCanJoinAndRenew();
  }

  @Test
  void aSchemaMigratedByANewerArbiterIsRefusedWithAMessageSayingSo() throws Exception {
    arbiter(true).initializeSchema();
    long rank = count("SELECT MAX(installed_rank) FROM arbiter_schema_history") + 1;
    // What a future V4 leaves in Flyway's history (and not in the old record).
    execute(
        "INSERT INTO arbiter_schema_history (installed_rank, version, description, type, script,"
            + " checksum, installed_by, installed_on, execution_time, success) VALUES ("
            + rank
            + ", '4',"
            + " 'arbiter', 'SQL', 'V4__arbiter.sql', 0, 'test', CURRENT_TIMESTAMP, 1, TRUE)");
    for (boolean create : new boolean[] {true, false}) {
      assertThatThrownBy(() -> arbiter(create).initializeSchema())
          .isInstanceOf(ArbiterException.class)
          .hasMessageContaining("version 4")
          .hasMessageContaining("newer than this Arbiter understands (version 3)")
          .hasMessageContaining("upgrade Arbiter");
    }
    assertThat(history()).as("nothing was applied or recorded").hasSize((int) rank);
  }

  @Test
  void aMissingSchemaWithoutPermissionToCreateItNamesTheScripts() {
    assertThatThrownBy(() -> arbiter(false).initializeSchema())
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("missing")
        .hasMessageContaining("io/arbiter/jdbc/schema/" + dialect().name() + "/V1__arbiter.sql")
        .hasMessageContaining("V2__arbiter.sql")
        .hasMessageContaining("V3__arbiter.sql");
  }

  @Test
  void aPoolOfOneConnectionIsEnoughToMigrate() throws Exception {
    // Flyway takes two connections at once on PostgreSQL; tools and benchmarks run their setup on
    // pools of one or two.
    JdbcArbiter small =
        JdbcArbiter.builder(db().jdbcUrl())
            .leaseTtl(TTL)
            .poolSize(1)
            .heartbeatPoolSize(0)
            .createSchema(true)
            .build();
    resources.add(small);
    try (Connection c = db().connect()) {
      LegacySchema.create(c, dialect(), 1);
    }
    small.initializeSchema();
    assertThat(history()).containsExactly("1 BASELINE", "2 SQL", "3 SQL");
  }

  @Test
  void mastersMigratingAnEmptyDatabaseAtTheSameMomentAllSucceed() throws Exception {
    initializeTogether(4);
    assertThat(history()).containsExactly("0 BASELINE", "1 SQL", "2 SQL", "3 SQL");
  }

  @Test
  void mastersUpgradingAZeroOneDatabaseAtTheSameMomentAllSucceed() throws Exception {
    try (Connection c = db().connect()) {
      LegacySchema.create(c, dialect(), 1);
    }
    initializeTogether(4);
    assertThat(history()).containsExactly("1 BASELINE", "2 SQL", "3 SQL");
  }

  private void initializeTogether(int masters) throws Exception {
    List<JdbcArbiter> arbiters = new ArrayList<>();
    for (int i = 0; i < masters; i++) {
      arbiters.add(arbiter(true));
    }
    CyclicBarrier go = new CyclicBarrier(masters);
    List<CompletableFuture<Void>> inits = new ArrayList<>();
    for (JdbcArbiter a : arbiters) {
      inits.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  go.await();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                a.initializeSchema();
              }));
    }
    for (CompletableFuture<Void> f : inits) {
      f.get(); // throws if any of them failed
    }
  }

  private void assertMemberCanJoinAndRenew() {
    JdbcClusterStore store = arbiter(false).clusterStore();
    MemberId m =
        store.join("m-" + System.nanoTime(), TTL, Optional.empty(), new MemberInfo("h", 1));
    assertThat(store.heartbeat(m, TTL).renewed()).isTrue();
  }

  /** Flyway's history as "version type", in order of installation. */
  private List<String> history() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = db().connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT version, type FROM arbiter_schema_history WHERE success"
                    + " ORDER BY installed_rank")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getString(2));
      }
    }
    return rows;
  }

  private int legacyVersion() throws SQLException {
    return (int) count("SELECT MAX(version) FROM arbiter_schema_version");
  }

  private long count(String sql) throws SQLException {
    try (Connection c = db().connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private boolean tableExists(String table) throws SQLException {
    try (Connection c = db().connect();
        ResultSet rs =
            c.getMetaData()
                .getTables(c.getCatalog(), c.getSchema(), table, new String[] {"TABLE"})) {
      return rs.next();
    }
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = db().connect();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
