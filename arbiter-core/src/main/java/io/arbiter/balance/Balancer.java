package io.arbiter.balance;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Computes who should run what from facts every master can read (members, capacities, tags,
 * services, weights, rules), so every master computes the same answer without talking to the
 * others.
 *
 * <p>The scheme is <em>weighted rendezvous hashing with bounded load</em>. Each (service, master)
 * pair gets a pseudo-random score from a hash of the two names, scaled by the master's capacity
 * (the logarithmic method of Schindelhauer and Schomaker, so that a master's share is proportional
 * to its capacity). Services are taken in a fixed order (heaviest first, then by hash), and each
 * goes to the highest-scoring eligible master that still has room. Room is the master's fair share
 * of the total weight plus the weight of the heaviest service, so no master ends up more than one
 * service above its share (Mirrokni, Thorup and Zadimoghaddam, "Consistent hashing with bounded
 * loads").
 *
 * <p>Why this scheme: it needs no leader and no state beyond what is in the database. Scores do not
 * depend on which other masters exist, so when a master joins, mostly the services that rank it
 * first move to it, and when one leaves, mostly only its own services move.
 */
public final class Balancer {
  private Balancer() {}

  public static Assignment assign(
      Collection<MemberSpec> members, Collection<ServiceSpec> services) {
    return assign(members, services, Map.of());
  }

  /**
   * @param avoid service → a master it must not be given (it failed to start there)
   */
  public static Assignment assign(
      Collection<MemberSpec> members, Collection<ServiceSpec> services, Map<String, String> avoid) {
    List<MemberSpec> live =
        members.stream().sorted(Comparator.comparing(MemberSpec::name)).toList();
    List<MemberSpec> open = live.stream().filter(m -> !m.draining() && m.capacity() > 0).toList();
    Map<String, Set<String>> local = new TreeMap<>();
    Map<String, String> unplaceable = new TreeMap<>();
    List<ServiceSpec> exclusive = new ArrayList<>();
    for (ServiceSpec s : services) {
      if (s.placement().local()) {
        Set<String> where = new LinkedHashSet<>();
        open.stream().filter(s.placement()::allows).forEach(m -> where.add(m.name()));
        if (where.isEmpty()) {
          unplaceable.put(s.name(), whyNot(s, live));
        } else {
          local.put(s.name(), where);
        }
      } else {
        exclusive.add(s);
      }
    }
    Map<String, Long> serviceHashes = new HashMap<>();
    exclusive.forEach(x -> serviceHashes.put(x.name(), hash(x.name())));
    exclusive.sort(
        Comparator.comparingDouble(ServiceSpec::weight)
            .reversed()
            .thenComparingLong(x -> serviceHashes.get(x.name()))
            .thenComparing(ServiceSpec::name));

    double totalWeight = exclusive.stream().mapToDouble(ServiceSpec::weight).sum();
    double totalCapacity = open.stream().mapToDouble(MemberSpec::capacity).sum();
    double heaviest = exclusive.stream().mapToDouble(ServiceSpec::weight).max().orElse(0);
    Map<String, Double> room = new HashMap<>();
    for (MemberSpec m : open) {
      room.put(m.name(), totalWeight * m.capacity() / totalCapacity + heaviest);
    }

    Map<String, String> owners = new TreeMap<>();
    int size = open.size();
    long[] memberHash = new long[size];
    double[] load = new double[size];
    double[] roomOf = new double[size];
    List<Set<String>> groupsOn = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      memberHash[i] = hash(open.get(i).name());
      roomOf[i] = room.get(open.get(i).name());
      groupsOn.add(new HashSet<>());
    }
    int[] eligible = new int[size];
    double[] scores = new double[size];
    for (ServiceSpec s : exclusive) {
      long serviceHash = serviceHashes.get(s.name());
      Placement p = s.placement();
      String avoided = avoid.get(s.name());
      String group = p.antiAffinityGroup().orElse(null);
      boolean anywhere = p.requiredTag().isEmpty() && p.pinnedTo().isEmpty();
      int n = 0;
      for (int i = 0; i < size; i++) {
        MemberSpec m = open.get(i);
        if ((anywhere || p.allows(m))
            && (avoided == null || !avoided.equals(m.name()))
            && (group == null || !groupsOn.get(i).contains(group))) {
          eligible[n++] = i;
          scores[i] = score(serviceHash, memberHash[i], m.capacity());
        }
      }
      if (n == 0 && avoided != null) {
        // The master it failed to start on is the only one that may run it: try it there again
        // (after the start-failure backoff) rather than run it nowhere.
        for (int i = 0; i < size; i++) {
          MemberSpec m = open.get(i);
          if ((anywhere || p.allows(m)) && (group == null || !groupsOn.get(i).contains(group))) {
            eligible[n++] = i;
            scores[i] = score(serviceHash, memberHash[i], m.capacity());
          }
        }
      }
      if (n == 0) {
        unplaceable.put(s.name(), whyNot(s, live));
        continue;
      }
      int chosen = -1;
      // Highest score first (names break the astronomically unlikely ties), the first with room.
      for (int tries = 0; tries < n && chosen < 0; tries++) {
        int best = -1;
        for (int k = 0; k < n; k++) {
          int i = eligible[k];
          if (i >= 0 && (best < 0 || better(i, best, scores, open))) {
            best = i;
          }
        }
        if (load[best] + s.weight() <= roomOf[best] + 1e-9) {
          chosen = best;
        } else {
          for (int k = 0; k < n; k++) {
            if (eligible[k] == best) {
              eligible[k] = -1 - best; // tried: no room
            }
          }
        }
      }
      if (chosen < 0) {
        // Rules narrowed the choice so far that no eligible master has room: take the one least
        // loaded for its capacity, rather than leave the service unplaced.
        double bestRatio = Double.MAX_VALUE;
        for (int k = 0; k < n; k++) {
          int i = eligible[k] < 0 ? -1 - eligible[k] : eligible[k];
          double ratio = load[i] / open.get(i).capacity();
          if (ratio < bestRatio) {
            bestRatio = ratio;
            chosen = i;
          }
        }
      }
      owners.put(s.name(), open.get(chosen).name());
      load[chosen] += s.weight();
      if (group != null) {
        groupsOn.get(chosen).add(group);
      }
    }
    return new Assignment(owners, local, unplaceable);
  }

  private static boolean better(int i, int j, double[] scores, List<MemberSpec> members) {
    return scores[i] > scores[j]
        || (scores[i] == scores[j] && members.get(i).name().compareTo(members.get(j).name()) < 0);
  }

  private static String whyNot(ServiceSpec s, List<MemberSpec> live) {
    Placement p = s.placement();
    if (live.isEmpty()) {
      return "no live master";
    }
    if (p.pinnedTo().isPresent()) {
      String pin = p.pinnedTo().get();
      return live.stream()
          .filter(m -> m.name().equals(pin))
          .findFirst()
          .map(
              m ->
                  m.draining()
                      ? "pinned to " + pin + ", which is draining"
                      : "pinned to " + pin + ", which has no room or lacks a required tag")
          .orElse("pinned to " + pin + ", which is not live");
    }
    if (p.requiredTag().isPresent()
        && live.stream().noneMatch(m -> m.tags().contains(p.requiredTag().get()))) {
      return "no live master has tag '" + p.requiredTag().get() + "'";
    }
    if (p.antiAffinityGroup().isPresent()) {
      return "anti-affinity group '"
          + p.antiAffinityGroup().get()
          + "' has more services than eligible masters";
    }
    return "every eligible master is draining or has capacity 0";
  }

  /**
   * The weighted rendezvous score: -capacity / ln(u), with u in (0, 1) from a hash of the pair. The
   * highest score wins; a master with twice the capacity wins twice as often. StrictMath, so every
   * JVM on every machine computes the same bits, and so the same assignment.
   */
  static double score(long serviceHash, long memberHash, double capacity) {
    long h = mix(serviceHash ^ (memberHash * 0x9e3779b97f4a7c15L));
    double u = ((h >>> 11) + 0.5) / (double) (1L << 53); // strictly inside (0, 1)
    return -capacity / StrictMath.log(u);
  }

  /** A stable 64-bit hash (FNV-1a, then a splitmix64 finalizer): the same on every master. */
  static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  /** The splitmix64 finalizer: spreads every input bit over the whole word. */
  private static long mix(long h) {
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return h;
  }
}
