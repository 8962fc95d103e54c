package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.MemberId;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.MemberInfo;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A database left at schema version 1 by the previous release, with a member and a claimed service,
 * is upgraded in place to the current version by the first master allowed to create the schema;
 * what was there is kept, with the new columns at their defaults.
 */
class SchemaUpgradeTest {
  private static final Duration TTL = Duration.ofSeconds(3);

  @Test
  void aVersionOneDatabaseIsUpgradedInPlaceKeepingItsRows() throws Exception {
    TestDatabase db =
        TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    try {
      PostgresDialect dialect = new PostgresDialect();
      try (Connection c = db.connect();
          Statement st = c.createStatement()) {
        LegacySchema.create(c, dialect, 1);
        st.execute(
            "INSERT INTO arbiter_member (name, incarnation, state, lease_expires, joined_at,"
                + " renewed_at, host, pid) VALUES ('old', 4, 'STOPPED', now(), now(), now(), 'h', 1)");
        st.execute("INSERT INTO arbiter_service (name, token) VALUES ('poller', 17)");
      }
      try (JdbcArbiter arbiter =
          JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(TTL).createSchema(true).build()) {
        JdbcClusterStore store = arbiter.clusterStore();
        store.initialize();
        try (Connection c = db.connect();
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT MAX(version) FROM arbiter_schema_version")) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(SchemaMigrations.CURRENT_VERSION).isEqualTo(3);
        }
        try (Connection c = db.connect();
            Statement st = c.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT version, type FROM arbiter_schema_history ORDER BY installed_rank")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1))
              .as("the baseline: version 1, from the 0.1 record")
              .isEqualTo("1");
          assertThat(rs.getString(2)).isEqualTo("BASELINE");
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).as("then V2, migrated").isEqualTo("2");
          assertThat(rs.getString(2)).isEqualTo("SQL");
        }
        MemberId old = store.join("old", TTL, Optional.empty(), new MemberInfo("h", 2));
        assertThat(old.incarnation()).as("the incarnation counts on from version 1").isEqualTo(5);
        ClusterFacts facts = store.facts();
        ClusterFacts.Service poller = facts.services().get(0);
        assertThat(poller.spec()).isEqualTo(ServiceSpec.of("poller"));
        assertThat(poller.token()).isEqualTo(17);
        assertThat(store.claim(old, List.of("poller")))
            .singleElement()
            .satisfies(t -> assertThat(t.value()).as("tokens count on too").isEqualTo(18));
        assertThat(facts.members().get(0).spec().capacity()).isEqualTo(1.0);
      }
    } finally {
      db.close();
    }
  }
}
