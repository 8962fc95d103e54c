package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosDatabase;
import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/**
 * Fails the database over: the primary is killed (SIGKILL of its postmaster) and its synchronous
 * replica promoted, and every connection of the run goes to it from then on. The masters see a
 * database that vanished and came back on a new timeline with every acknowledged commit. Healing
 * gives the new primary a replica of its own, for the next failover (a restart of a second or two,
 * after the masters have recovered from the failover itself).
 */
public final class FailoverNemesis implements Nemesis {
  private final ChaosDatabase database;

  public FailoverNemesis(ChaosDatabase database) {
    if (!database.canFailOver()) {
      throw new IllegalArgumentException(database.label() + " cannot fail over");
    }
    this.database = database;
  }

  @Override
  public Healing inject(Fault fault, ChaosMaster target) throws Exception {
    database.failOver();
    return database::rebuildReplica;
  }
}
