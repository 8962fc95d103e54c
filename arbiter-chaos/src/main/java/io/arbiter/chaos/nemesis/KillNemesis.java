package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/** kill -9: the master's lease is left to run out; healing restarts it (a new incarnation). */
public final class KillNemesis implements Nemesis {
  @Override
  public Healing inject(Fault fault, ChaosMaster target) throws Exception {
    target.kill();
    return target::restartIfDead;
  }
}
