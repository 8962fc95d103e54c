package io.arbiter.spi;

import io.arbiter.balance.Assignment;
import io.arbiter.balance.Balancer;
import io.arbiter.balance.MemberSpec;
import io.arbiter.balance.ServiceSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the balancer needs, read in one transaction: the live members with what they offer,
 * and every service with its rules and its current grant. Read only when the change epoch moves, so
 * its size (one row per service) never becomes a cost at rest.
 *
 * @param changeEpoch the epoch these facts are at least as new as
 */
public record ClusterFacts(long changeEpoch, List<Member> members, List<Service> services) {
  public ClusterFacts {
    members = List.copyOf(members);
    services = List.copyOf(services);
  }

  /**
   * Who should run what, by the balancer, from these facts alone: every master that reads the same
   * facts gets the same answer. An operator's move ({@link Service#moveTo()}) acts as a pin while
   * its target is live, not draining and allowed by the service's own rules; otherwise it is
   * ignored and the service is placed as usual.
   */
  public Assignment assignment() {
    Map<String, MemberSpec> live = new HashMap<>();
    members.forEach(m -> live.put(m.name(), m.spec()));
    Map<String, Long> incarnations = new HashMap<>();
    members.forEach(m -> incarnations.put(m.name(), m.incarnation()));
    List<ServiceSpec> specs = new ArrayList<>();
    Map<String, String> avoid = new HashMap<>();
    for (Service s : services) {
      s.startFailedBy()
          .filter(f -> Long.valueOf(f.incarnation()).equals(incarnations.get(f.name())))
          .ifPresent(f -> avoid.put(s.name(), f.name()));
      ServiceSpec spec = s.spec();
      MemberSpec target = s.moveTo().map(live::get).orElse(null);
      if (target != null && !target.draining() && spec.placement().allows(target)) {
        spec = new ServiceSpec(spec.name(), spec.weight(), spec.placement().pinTo(target.name()));
      }
      specs.add(spec);
    }
    return Balancer.assign(live.values(), specs, avoid);
  }

  /**
   * True if {@code service} has no owner or its owner is known to be dead: the owner's incarnation
   * is not among these live members (its row shows a newer incarnation or a stopped or expired
   * state). The claim statement checks the same rule again in the database.
   */
  public boolean claimable(Service service) {
    return claimable(service, liveIds());
  }

  /** {@link #claimable(Service)} against a precomputed {@link #liveIds()}, for many services. */
  public static boolean claimable(Service service, java.util.Set<io.arbiter.MemberId> live) {
    return service.owner().isEmpty() || !live.contains(service.owner().get());
  }

  /** The live members' incarnations. */
  public java.util.Set<io.arbiter.MemberId> liveIds() {
    java.util.Set<io.arbiter.MemberId> ids = new java.util.HashSet<>();
    members.forEach(m -> ids.add(new io.arbiter.MemberId(m.name(), m.incarnation())));
    return ids;
  }

  /**
   * A member marked live.
   *
   * @param leftMillis remaining lease by the store's clock
   */
  public record Member(
      String name,
      long incarnation,
      MemberSpec spec,
      Optional<String> peerAddress,
      long leftMillis) {}

  /**
   * A service, its rules and its grant.
   *
   * @param moveTo where an operator asked it to run ({@code arbiter move}), if anywhere
   * @param owner the holder of the current grant, if any
   * @param startFailedBy the incarnation on which it last failed to start: while that incarnation
   *     lives, the balancer gives the service to another master
   */
  public record Service(
      ServiceSpec spec,
      Optional<String> moveTo,
      Optional<io.arbiter.MemberId> owner,
      long token,
      Optional<io.arbiter.MemberId> startFailedBy) {
    public String name() {
      return spec.name();
    }
  }
}
