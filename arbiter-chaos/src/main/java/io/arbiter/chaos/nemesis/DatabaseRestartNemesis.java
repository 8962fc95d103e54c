package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosDatabase;
import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/**
 * Stops the database server under load and starts it again on the same port and data: every
 * connection of every master drops at once, and committed data (tokens, leases) survives.
 */
public final class DatabaseRestartNemesis implements Nemesis {
  private final ChaosDatabase database;

  public DatabaseRestartNemesis(ChaosDatabase database) {
    if (!database.restartable()) {
      throw new IllegalArgumentException(database.label() + " cannot be restarted by the run");
    }
    this.database = database;
  }

  @Override
  public Healing inject(Fault fault, ChaosMaster target) throws Exception {
    database.stop();
    return database::start;
  }
}
