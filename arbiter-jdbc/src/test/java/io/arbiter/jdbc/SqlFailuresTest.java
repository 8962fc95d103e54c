package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.ArbiterException;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.StoreReadOnlyException;
import io.arbiter.StoreUnavailableException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** How driver errors are sorted into transient (retry) and permanent (fix the configuration). */
class SqlFailuresTest {
  private static final String DB = "jdbc:postgresql://db.example/arbiter";

  private static ArbiterException translate(String state, int code) {
    return SqlFailures.translate("renewing", DB, new SQLException("refused", state, code));
  }

  @Test
  void aReadOnlyDatabaseIsTransient() {
    // PostgreSQL: read_only_sql_transaction (a hot standby, a demoted primary).
    assertThat(translate("25006", 0))
        .isInstanceOf(StoreUnavailableException.class)
        .isInstanceOfSatisfying(
            StoreReadOnlyException.class, e -> assertThat(e.database()).isEqualTo(DB))
        .hasMessageContaining("the database is read-only")
        .hasMessageContaining(DB);
    // MariaDB/MySQL: --read-only (1290), a read-only transaction (1792).
    assertThat(translate("HY000", 1290)).isInstanceOf(StoreReadOnlyException.class);
    assertThat(translate("25006", 1792)).isInstanceOf(StoreReadOnlyException.class);
  }

  @Test
  void refusedCredentialsAndAMissingDatabaseArePermanent() {
    assertThat(translate("28P01", 0))
        .isInstanceOfSatisfying(
            StoreMisconfiguredException.class,
            e ->
                assertThat(e.problem()).isEqualTo(StoreMisconfiguredException.Problem.CREDENTIALS));
    assertThat(translate("3D000", 0))
        .isInstanceOfSatisfying(
            StoreMisconfiguredException.class,
            e ->
                assertThat(e.problem())
                    .isEqualTo(StoreMisconfiguredException.Problem.MISSING_DATABASE));
  }

  @Test
  void aLostConnectionIsTransientButNotReadOnly() {
    assertThat(translate("08006", 0))
        .isInstanceOf(StoreUnavailableException.class)
        .isNotInstanceOf(StoreReadOnlyException.class);
  }
}
