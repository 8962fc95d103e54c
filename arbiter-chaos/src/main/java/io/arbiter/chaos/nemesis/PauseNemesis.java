package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/**
 * SIGSTOP for longer than the lease, then SIGCONT: a GC pause or a suspended VM. The master wakes
 * holding grants that are gone, often in the middle of a write it decided on before the pause; the
 * fence must refuse that write, and the master must stop acting by itself.
 */
public final class PauseNemesis implements Nemesis {
  @Override
  public Healing inject(Fault fault, ChaosMaster target) throws Exception {
    target.pause();
    return target::resume;
  }
}
