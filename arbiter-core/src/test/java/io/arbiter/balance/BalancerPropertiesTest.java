package io.arbiter.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties of the assignment function, over random clusters. The seeds are fixed so that CI runs
 * the same cases every time (a bound that fails on a new seed is found here, not in a submission);
 * change {@link #SEED} to explore other clusters.
 */
class BalancerPropertiesTest {
  private static final String SEED = "20261202";

  private static List<ServiceSpec> services(int count, int maxWeight, long seed) {
    Random r = new Random(seed);
    List<ServiceSpec> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          new ServiceSpec("svc-" + seed + "-" + i, 1 + r.nextInt(maxWeight), Placement.ANYWHERE));
    }
    return out;
  }

  private static List<MemberSpec> members(int count, int maxCapacity, long seed) {
    Random r = new Random(seed * 31 + 7);
    List<MemberSpec> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(new MemberSpec("m" + i, 1 + r.nextInt(maxCapacity), Set.of(), false));
    }
    return out;
  }

  private static Map<String, ServiceSpec> byName(List<ServiceSpec> services) {
    Map<String, ServiceSpec> m = new HashMap<>();
    services.forEach(s -> m.put(s.name(), s));
    return m;
  }

  @Property(tries = 200, seed = SEED)
  void noMasterIsAboveItsFairShareByMoreThanTheHeaviestService(
      @ForAll @IntRange(min = 1, max = 400) int serviceCount,
      @ForAll @IntRange(min = 1, max = 9) int memberCount,
      @ForAll @IntRange(min = 1, max = 4) int maxWeight,
      @ForAll @IntRange(min = 1, max = 3) int maxCapacity,
      @ForAll long seed) {
    List<ServiceSpec> services = services(serviceCount, maxWeight, seed);
    List<MemberSpec> members = members(memberCount, maxCapacity, seed);
    Assignment a = Balancer.assign(members, services);

    assertThat(a.owners()).hasSize(serviceCount);
    assertThat(a.unplaceable()).isEmpty();
    double total = services.stream().mapToDouble(ServiceSpec::weight).sum();
    double capacity = members.stream().mapToDouble(MemberSpec::capacity).sum();
    double heaviest = services.stream().mapToDouble(ServiceSpec::weight).max().orElse(0);
    Map<String, Double> loads = a.loads(byName(services));
    for (MemberSpec m : members) {
      double fair = total * m.capacity() / capacity;
      assertThat(loads.getOrDefault(m.name(), 0.0))
          .as(m.name())
          .isLessThanOrEqualTo(fair + heaviest + 1e-9);
    }
  }

  @Property(tries = 100, seed = SEED)
  void theSameFactsInAnyOrderGiveTheSameAssignment(
      @ForAll @IntRange(min = 1, max = 200) int serviceCount,
      @ForAll @IntRange(min = 1, max = 7) int memberCount,
      @ForAll long seed) {
    List<ServiceSpec> services = services(serviceCount, 3, seed);
    List<MemberSpec> members = members(memberCount, 2, seed);
    Assignment a = Balancer.assign(members, services);
    List<ServiceSpec> shuffledServices = new ArrayList<>(services);
    List<MemberSpec> shuffledMembers = new ArrayList<>(members);
    Collections.shuffle(shuffledServices, new Random(seed));
    Collections.shuffle(shuffledMembers, new Random(seed + 1));
    assertThat(Balancer.assign(shuffledMembers, shuffledServices)).isEqualTo(a);
  }

  @Property(tries = 60, seed = SEED)
  void aJoiningMasterTakesAboutItsShareAndLittleElseMoves(
      @ForAll @IntRange(min = 100, max = 800) int serviceCount,
      @ForAll @IntRange(min = 1, max = 8) int memberCount,
      @ForAll long seed) {
    List<ServiceSpec> services = services(serviceCount, 1, seed);
    List<MemberSpec> before = members(memberCount, 1, seed);
    List<MemberSpec> after = new ArrayList<>(before);
    after.add(MemberSpec.of("joiner"));
    Assignment a = Balancer.assign(before, services);
    Assignment b = Balancer.assign(after, services);

    int moves = 0;
    int elsewhere = 0;
    for (Map.Entry<String, String> e : a.owners().entrySet()) {
      String now = b.owners().get(e.getKey());
      if (!now.equals(e.getValue())) {
        moves++;
        if (!now.equals("joiner")) {
          elsewhere++;
        }
      }
    }
    double ideal = (double) serviceCount / (memberCount + 1);
    // Small clusters with a tight load bound cascade a little; a naive hash mod N would move
    // N/(N+1) of everything. The 10,000-service targets are checked in BalancerTest.
    // (Checked over 1,500 tries per property; the worst seen was 22 between old masters for an
    // ideal of 30.)
    assertThat(moves).isLessThanOrEqualTo((int) (2 * ideal) + 5);
    assertThat(elsewhere).as("moves between old masters").isLessThanOrEqualTo((int) ideal + 5);
  }

  @Property(tries = 60, seed = SEED)
  void whenAMasterLeavesMostlyOnlyItsServicesMove(
      @ForAll @IntRange(min = 100, max = 800) int serviceCount,
      @ForAll @IntRange(min = 2, max = 9) int memberCount,
      @ForAll long seed) {
    List<ServiceSpec> services = services(serviceCount, 1, seed);
    List<MemberSpec> before = members(memberCount, 1, seed);
    Assignment a = Balancer.assign(before, services);
    String leaver = before.get((int) Math.floorMod(seed, (long) memberCount)).name();
    List<MemberSpec> after = before.stream().filter(m -> !m.name().equals(leaver)).toList();
    Assignment b = Balancer.assign(after, services);

    long itsOwn = a.owners().values().stream().filter(leaver::equals).count();
    int others = 0;
    for (Map.Entry<String, String> e : a.owners().entrySet()) {
      if (!e.getValue().equals(leaver) && !b.owners().get(e.getKey()).equals(e.getValue())) {
        others++;
      }
    }
    assertThat(b.owners().values()).doesNotContain(leaver);
    // Bounded load places services in a fixed order, so freeing room can shift a few others too;
    // at 10,000 services that is 49 moves for the leaver's 1,001 (BalancerTest), in small clusters
    // it can approach the leaver's own count (126 services, 9 masters: 14 for 14).
    assertThat(others)
        .as("services of other masters that moved")
        .isLessThanOrEqualTo((int) itsOwn + 5);
  }

  @Property(tries = 100, seed = SEED)
  void rulesAreAlwaysRespected(
      @ForAll @IntRange(min = 1, max = 120) int serviceCount,
      @ForAll @IntRange(min = 1, max = 6) int memberCount,
      @ForAll long seed) {
    Random r = new Random(seed);
    List<MemberSpec> members = new ArrayList<>();
    for (int i = 0; i < memberCount; i++) {
      members.add(
          new MemberSpec(
              "m" + i, 1, r.nextBoolean() ? Set.of("web") : Set.of("builder"), r.nextInt(5) == 0));
    }
    List<ServiceSpec> services = new ArrayList<>();
    for (int i = 0; i < serviceCount; i++) {
      Placement p = Placement.ANYWHERE;
      switch (r.nextInt(5)) {
        case 0 -> p = p.requireTag("web");
        case 1 ->
            p = p.pinTo("m" + r.nextInt(memberCount + 1)); // sometimes a master that is not there
        case 2 -> p = p.antiAffinity("g" + r.nextInt(3));
        case 3 -> p = p.requireTag("web").onEveryMatchingMaster();
        default -> {}
      }
      services.add(new ServiceSpec("s" + i, 1, p));
    }
    Assignment a = Balancer.assign(members, services);
    Map<String, MemberSpec> m = new HashMap<>();
    members.forEach(x -> m.put(x.name(), x));
    Map<String, java.util.Set<String>> groupMembers = new HashMap<>();
    for (ServiceSpec s : services) {
      String owner = a.owners().get(s.name());
      boolean local = a.local().containsKey(s.name());
      boolean unplaced = a.unplaceable().containsKey(s.name());
      assertThat((owner != null ? 1 : 0) + (local ? 1 : 0) + (unplaced ? 1 : 0))
          .as("%s is owned, local or unplaceable, exactly one", s.name())
          .isEqualTo(1);
      if (owner != null) {
        MemberSpec o = m.get(owner);
        assertThat(o.draining()).as("%s on a draining master", s.name()).isFalse();
        s.placement().requiredTag().ifPresent(t -> assertThat(o.tags()).contains(t));
        s.placement().pinnedTo().ifPresent(p -> assertThat(owner).isEqualTo(p));
        s.placement()
            .antiAffinityGroup()
            .ifPresent(
                g ->
                    assertThat(
                            groupMembers
                                .computeIfAbsent(g, k -> new java.util.HashSet<>())
                                .add(owner))
                        .as("two services of group %s on %s", g, owner)
                        .isTrue());
      }
      if (local) {
        for (MemberSpec x : members) {
          boolean should = !x.draining() && s.placement().allows(x);
          assertThat(a.local().get(s.name()).contains(x.name())).isEqualTo(should);
        }
      }
      if (unplaced) {
        assertThat(a.unplaceable().get(s.name())).isNotBlank();
      }
    }
  }
}
