package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loses acknowledgements: the target's proxy cuts its connection right after forwarding each of the
 * target's next write commits (all of them in the window, or a few), so the transaction commits
 * while the master hears an error. A claim, a release, a join or a fenced write then happened
 * although its sender believes it failed. So that claims are among them, services are moved onto
 * the target when the fault begins; healing stops the cuts and gives them back to the balancer.
 */
public final class LostAckNemesis implements Nemesis {
  private final ServiceMover mover;
  private final Set<String> stillMoved = ConcurrentHashMap.newKeySet();

  public LostAckNemesis(ServiceMover mover) {
    this.mover = mover;
  }

  @Override
  public Healing inject(Fault fault, ChaosMaster target) {
    target.loseAcknowledgements(fault.lostCommits());
    List<String> moved = mover.moveOnto(target.name(), fault.moves(), fault.number());
    stillMoved.addAll(moved);
    return () -> {
      target.keepAcknowledgements();
      mover.unmove(moved);
      stillMoved.removeAll(moved);
    };
  }

  /** Gives back to the balancer what a failed healing left moved (the proxies heal with them). */
  @Override
  public void healAll() {
    List<String> left = List.copyOf(stillMoved);
    if (!left.isEmpty()) {
      mover.unmove(left);
      stillMoved.removeAll(left);
    }
  }
}
