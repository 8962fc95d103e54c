package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.ClusterConfig;
import io.arbiter.InvalidConfigException;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The builder's choices, defaults and refusals; no secret in any message. */
class JdbcArbiterBuilderTest {
  private static final String SECRET_URL =
      "jdbc:postgresql://127.0.0.1:1/buildbot?user=bb&password=s3cret";

  @Test
  void theDialectComesFromTheUrlWithoutConnecting() {
    try (JdbcArbiter arbiter =
        JdbcArbiter.builder("jdbc:mariadb://127.0.0.1:1/nowhere?password=s3cret").build()) {
      assertThat(arbiter.dialect()).isInstanceOf(MariaDbDialect.class);
      assertThat(arbiter.dialectReason()).contains("URL").doesNotContain("s3cret");
      assertThat(arbiter.leaseTtl()).isEqualTo(JdbcArbiter.DEFAULT_LEASE_TTL);
    }
  }

  @Test
  void theDialectComesFromTheMetadataOfADataSource() {
    TestDatabase db = TestDatabases.embeddedPostgres();
    try (HikariDataSource pool =
            ArbiterDataSources.create(db.jdbcUrl(), null, null, Duration.ofSeconds(3), 3, "t");
        JdbcArbiter arbiter = JdbcArbiter.builder(pool).createSchema(true).build()) {
      assertThat(arbiter.dialect()).isInstanceOf(PostgresDialect.class);
      assertThat(arbiter.dialectReason()).contains("JDBC metadata").contains("PostgreSQL");
      arbiter.initializeSchema();
    } finally {
      db.close();
    }
  }

  @Test
  void theLeaseTtlComesFromTheClusterConfigAndIsSaidOnce() {
    ClusterConfig config = ClusterConfig.builder("m1").leaseTtl(Duration.ofSeconds(5)).build();
    try (JdbcArbiter arbiter = JdbcArbiter.builder(SECRET_URL).clusterConfig(config).build()) {
      assertThat(arbiter.leaseTtl()).isEqualTo(Duration.ofSeconds(5));
      assertThat(arbiter.clusterConfig()).contains(config);
    }
    assertThatThrownBy(
            () ->
                JdbcArbiter.builder(SECRET_URL)
                    .clusterConfig(config)
                    .leaseTtl(Duration.ofSeconds(3)))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("leaseTtl")
        .hasMessageContaining("not both");
  }

  @Test
  void badSettingsNameTheFieldTheValueAndTheRuleWithoutSecrets() {
    assertThatThrownBy(() -> JdbcArbiter.builder("jdbc:oracle:thin:@db?password=s3cret"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("jdbcUrl")
        .hasMessageContaining("unknown URL scheme")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> JdbcArbiter.builder(SECRET_URL).poolSize(0))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("poolSize = 0")
        .hasMessageContaining("at least 1");
    assertThatThrownBy(() -> JdbcArbiter.builder(SECRET_URL).leaseTtl(Duration.ofMillis(10)))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("leaseTtl")
        .hasMessageContaining("at least 100 ms");
    try (HikariDataSource pool = new HikariDataSource()) {
      assertThatThrownBy(() -> JdbcArbiter.builder(pool).credentials("bb", "s3cret"))
          .isInstanceOf(InvalidConfigException.class)
          .hasMessageContaining("credentials")
          .hasMessageNotContaining("s3cret");
    }
  }

  @Test
  void urlsAreRedactedOfWhatMayHoldASecret() {
    assertThat(JdbcArbiter.redact(SECRET_URL)).isEqualTo("jdbc:postgresql://127.0.0.1:1/buildbot");
    assertThat(JdbcArbiter.redact("jdbc:mariadb://bb:s3cret@db:3306/x"))
        .isEqualTo("jdbc:mariadb://***@db:3306/x");
    assertThat(JdbcArbiter.redact("jdbc:mysql://db/x;password=s3cret"))
        .isEqualTo("jdbc:mysql://db/x");
  }
}
