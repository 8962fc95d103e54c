package io.arbiter.chaos;

import io.arbiter.jdbc.Dialect;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Creates the workload's tick table ({@value TickHistory#TABLE}) before the masters start: the
 * workload that writes it owns its definition, the harness only makes sure it exists first (two
 * masters creating it at once on an empty database can collide).
 */
@FunctionalInterface
public interface TickTableSetup {
  void create(DataSource dataSource, Dialect dialect) throws SQLException;
}
