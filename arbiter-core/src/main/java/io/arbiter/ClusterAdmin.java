package io.arbiter;

import io.arbiter.balance.Assignment;
import io.arbiter.balance.MemberSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Operations on a running cluster, from any process that can reach the database (the `arbiter
 * drain|undrain|move` commands use it). They only write intentions into the database; every master
 * sees them in its next heartbeat (or at once, with push notifications) and moves services with the
 * usual handoff: stop, release, claim, start.
 */
public final class ClusterAdmin {
  private final ClusterStore store;

  public ClusterAdmin(ClusterStore store) {
    this.store = store;
  }

  /**
   * Moves every service off {@code member} and gives it nothing until {@link #undrain}. The master
   * keeps running, empty, so it can be stopped or upgraded without a failover. Local services stop
   * there too. Survives restarts of that master.
   *
   * @throws UnknownMemberException if no master has that name
   */
  public void drain(String member) {
    if (!store.setDraining(member, true)) {
      throw unknownMember(member);
    }
  }

  /** Lets the balancer give services to {@code member} again. */
  public void undrain(String member) {
    if (!store.setDraining(member, false)) {
      throw unknownMember(member);
    }
  }

  /**
   * Asks for {@code service} to run on {@code member}. The request stays (like a pin) while that
   * master is live and not draining; {@link #unmove} gives the service back to the balancer.
   *
   * @throws UnknownServiceException if no service has that name
   * @throws UnknownMemberException if no live master has that name
   * @throws MoveRefusedException naming the rule if the target is draining, or the service is
   *     local, or its rules (required tag, pin, anti-affinity) forbid it
   */
  public void move(String service, String member) {
    ClusterFacts facts = store.facts();
    ClusterFacts.Service s =
        facts.services().stream()
            .filter(x -> x.name().equals(service))
            .findFirst()
            .orElseThrow(() -> unknownService(service, facts));
    ClusterFacts.Member target =
        facts.members().stream()
            .filter(m -> m.name().equals(member))
            .findFirst()
            .orElseThrow(
                () ->
                    new UnknownMemberException(
                        member,
                        facts.members().stream().map(ClusterFacts.Member::name).toList(),
                        "cannot move "
                            + service
                            + " to "
                            + member
                            + ": no live master has that name (live: "
                            + facts.members().stream().map(ClusterFacts.Member::name).toList()
                            + ")"));
    MemberSpec spec = target.spec();
    if (spec.draining()) {
      throw new MoveRefusedException(
          service,
          member,
          MoveRefusedException.Rule.TARGET_DRAINING,
          "it is draining (undrain it first)");
    }
    if (s.spec().placement().local()) {
      throw new MoveRefusedException(
          service,
          member,
          MoveRefusedException.Rule.LOCAL_SERVICE,
          "it is a local service, it runs on every matching master");
    }
    if (!s.spec().placement().allows(spec)) {
      throw new MoveRefusedException(
          service,
          member,
          MoveRefusedException.Rule.PLACEMENT,
          "its rules forbid it (" + describe(s) + "; " + member + " has tags " + spec.tags() + ")");
    }
    Optional<String> group = s.spec().placement().antiAffinityGroup();
    if (group.isPresent()) {
      Assignment now = facts.assignment();
      for (ClusterFacts.Service other : facts.services()) {
        if (!other.name().equals(service)
            && group.equals(other.spec().placement().antiAffinityGroup())
            && member.equals(now.owners().get(other.name()))) {
          throw new MoveRefusedException(
              service,
              member,
              MoveRefusedException.Rule.ANTI_AFFINITY,
              other.name() + " of the same anti-affinity group '" + group.get() + "' runs there");
        }
      }
    }
    store.setMoveTarget(service, Optional.of(member));
  }

  /** Gives {@code service} back to the balancer's choice. */
  public void unmove(String service) {
    if (!store.setMoveTarget(service, Optional.empty())) {
      throw unknownService(service, store.facts());
    }
  }

  /**
   * Waits until the database shows the assignment carried out: every service that has a place is
   * held by the master the balancer gives it to. Returns false on timeout.
   */
  public boolean awaitBalanced(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      if (isBalanced(store.facts())) {
        return true;
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
    return false;
  }

  /** True if every placed service is held by the master the balancer gives it to. */
  public static boolean isBalanced(ClusterFacts facts) {
    Assignment a = facts.assignment();
    for (ClusterFacts.Service s : facts.services()) {
      String want = a.owners().get(s.name());
      if (want == null) {
        continue; // local or unplaceable
      }
      if (s.owner().isEmpty() || !s.owner().get().name().equals(want)) {
        return false;
      }
    }
    return true;
  }

  private static String describe(ClusterFacts.Service s) {
    List<String> rules =
        List.of(
                s.spec().placement().requiredTag().map(t -> "requires tag " + t),
                s.spec().placement().pinnedTo().map(m -> "pinned to " + m))
            .stream()
            .flatMap(Optional::stream)
            .toList();
    return String.join(", ", rules);
  }

  private static UnknownMemberException unknownMember(String member) {
    return new UnknownMemberException(
        member, List.of(), "no master named " + member + " (see `arbiter status` for the members)");
  }

  private static UnknownServiceException unknownService(String service, ClusterFacts facts) {
    return new UnknownServiceException(service, facts.services().size());
  }
}
