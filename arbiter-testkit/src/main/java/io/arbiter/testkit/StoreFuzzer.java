package io.arbiter.testkit;

import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.StoreUnavailableException;
import io.arbiter.balance.Assignment;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.MemberInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Many members in many threads racing to join, claim, renew, release, leave, pause and expire one
 * another, each following the engine's rule: act on a service only while its own lease, measured
 * from the moment the last successful renewal was sent, has not run out. An oracle watches every
 * member's belief and records any moment at which two members believe they own one service; at the
 * end every service's granted tokens must be exactly 1..current.
 */
final class StoreFuzzer {
  private static final Duration TTL = Duration.ofMillis(1000);
  private static final long MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(150);
  private static final int MEMBERS = 6;
  private static final int SERVICES = 5;

  /**
   * @param handovers grants released because the balancer gave the service to another member
   */
  record Result(
      List<String> overlaps,
      List<String> tokenProblems,
      int grants,
      int takeovers,
      int handovers) {}

  private final Function<Duration, ClusterStore> stores;
  private final Function<String, String> names;
  private final Oracle oracle = new Oracle();
  private final Map<String, List<Long>> granted = new ConcurrentHashMap<>();
  private final AtomicInteger takeovers = new AtomicInteger();
  private final AtomicInteger handovers = new AtomicInteger();
  private final List<String> memberNames = new ArrayList<>();

  StoreFuzzer(Function<Duration, ClusterStore> stores, Function<String, String> names) {
    this.stores = stores;
    this.names = names;
  }

  Result run(Duration duration) throws Exception {
    List<String> services = new ArrayList<>();
    for (int i = 0; i < SERVICES; i++) {
      services.add(names.apply("fz" + i));
    }
    ClusterStore admin = stores.apply(TTL);
    admin.register(services);
    long end = System.nanoTime() + duration.toNanos();
    for (int i = 0; i < MEMBERS; i++) {
      memberNames.add(names.apply("fm" + i));
    }
    ExecutorService pool = Executors.newFixedThreadPool(MEMBERS);
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < MEMBERS; i++) {
      Member m =
          new Member(memberNames.get(i), stores.apply(TTL), services, new Random(31L * i + 7), end);
      futures.add(pool.submit(m));
    }
    for (Future<?> f : futures) {
      f.get(duration.toSeconds() + 60, TimeUnit.SECONDS);
    }
    pool.shutdownNow();

    List<String> tokenProblems = new ArrayList<>();
    int grants = 0;
    for (String s : services) {
      List<Long> tokens = new ArrayList<>(granted.getOrDefault(s, List.of()));
      grants += tokens.size();
      tokens.sort(Long::compare);
      long current =
          admin.status().services().stream()
              .filter(x -> x.name().equals(s))
              .findFirst()
              .orElseThrow()
              .token();
      for (int i = 0; i < tokens.size(); i++) {
        if (tokens.get(i) != i + 1) {
          tokenProblems.add(s + ": granted tokens " + tokens + " are not 1.." + current);
          break;
        }
      }
      if (tokens.size() != current) {
        tokenProblems.add(s + ": " + tokens.size() + " grants seen but the token is " + current);
      }
    }
    return new Result(oracle.overlaps, tokenProblems, grants, takeovers.get(), handovers.get());
  }

  /** Who believes they own what, and until when (monotonic nanos). */
  private static final class Oracle {
    private record Belief(MemberId member, long token, long deadline) {}

    private final Map<String, Belief> beliefs = new HashMap<>();
    private final List<String> overlaps = new CopyOnWriteArrayList<>();

    synchronized boolean startActing(FencingToken t, long deadline) {
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        return false; // our own lease ran out before we could act: do not
      }
      Belief other = beliefs.get(t.service());
      if (other != null && !other.member.equals(t.holder()) && now - other.deadline < 0) {
        overlaps.add(
            t.service()
                + ": "
                + t.holder()
                + " (token "
                + t.value()
                + ") started while "
                + other.member
                + " (token "
                + other.token
                + ") still had "
                + TimeUnit.NANOSECONDS.toMillis(other.deadline - now)
                + " ms of lease");
      }
      beliefs.put(t.service(), new Belief(t.holder(), t.value(), deadline));
      return true;
    }

    synchronized void extend(MemberId member, long deadline) {
      beliefs.replaceAll(
          (s, b) -> b.member.equals(member) ? new Belief(b.member, b.token, deadline) : b);
    }

    synchronized void stopActing(MemberId member, String service) {
      Belief b = beliefs.get(service);
      if (b != null && b.member.equals(member)) {
        beliefs.remove(service);
      }
    }

    synchronized void stopAll(MemberId member) {
      beliefs.values().removeIf(b -> b.member.equals(member));
    }
  }

  private final class Member implements Runnable {
    private final String name;
    private final ClusterStore store;
    private final List<String> services;
    private final Random random;
    private final long end;
    private final Map<String, FencingToken> held = new TreeMap<>();
    private MemberId me;
    private MemberId previous;
    private long deadline;
    private long lastRenewSent;

    Member(String name, ClusterStore store, List<String> services, Random random, long end) {
      this.name = name;
      this.store = store;
      this.services = services;
      this.random = random;
      this.end = end;
    }

    @Override
    public void run() {
      while (System.nanoTime() - end < 0) {
        try {
          step();
        } catch (StoreUnavailableException e) {
          // a deadlock or timeout: the operation did not happen; carry on
        }
        sleep(2 + random.nextInt(15));
      }
      if (me != null) {
        selfFence();
        store.leave(previous);
      }
    }

    private void step() {
      long now = System.nanoTime();
      if (me != null && now - deadline >= 0) {
        selfFence();
      }
      if (me == null) {
        long sent = System.nanoTime();
        try {
          me = store.join(name, TTL, Optional.ofNullable(previous), new MemberInfo("fuzz", 0));
        } catch (MemberNameInUseException e) {
          return;
        }
        lastRenewSent = sent;
        deadline = sent + TTL.toNanos() - MARGIN_NANOS;
        return;
      }
      int dice = random.nextInt(100);
      if (now - lastRenewSent > TTL.toNanos() / 3 || dice < 10) {
        renew();
      } else if (dice < 30) {
        claimSome();
      } else if (dice < 50) {
        balance();
      } else if (dice < 58) {
        releaseOne();
      } else if (dice < 70) {
        store.expireOverdueMembers();
      } else if (dice < 73) {
        store.setDraining(
            memberNames.get(random.nextInt(memberNames.size())), random.nextInt(3) == 0);
      } else if (dice < 75) {
        store.setMoveTarget(
            services.get(random.nextInt(services.size())),
            random.nextBoolean()
                ? Optional.empty()
                : Optional.of(memberNames.get(random.nextInt(memberNames.size()))));
      } else if (dice < 78) {
        pause();
      } else if (dice < 80) {
        leave();
      }
    }

    private void renew() {
      long sent = System.nanoTime();
      if (store.heartbeat(me, TTL).renewed()) {
        lastRenewSent = sent;
        deadline = sent + TTL.toNanos() - MARGIN_NANOS;
        oracle.extend(me, deadline);
      } else {
        selfFence();
      }
    }

    /** Claims every claimable service it does not hold, in one batch. */
    private void claimSome() {
      Set<String> claimable = new HashSet<>(store.claimableServices());
      claim(services.stream().filter(claimable::contains).toList());
    }

    /**
     * Does what the engine does with the balancer: reads the facts (only this fuzzer's members and
     * services), stops and releases in one batch what is assigned to another member, then claims
     * what is assigned to itself.
     */
    private void balance() {
      ClusterFacts all = store.facts();
      Set<String> ours = new HashSet<>(services);
      ClusterFacts facts =
          new ClusterFacts(
              all.changeEpoch(),
              all.members().stream().filter(m -> memberNames.contains(m.name())).toList(),
              all.services().stream().filter(x -> ours.contains(x.name())).toList());
      Assignment assignment = facts.assignment();
      List<FencingToken> leaving = new ArrayList<>();
      for (Map.Entry<String, FencingToken> e : new ArrayList<>(held.entrySet())) {
        String owner = assignment.owners().get(e.getKey());
        if (owner != null && !owner.equals(name)) {
          held.remove(e.getKey());
          oracle.stopActing(me, e.getKey()); // stop first, then release
          leaving.add(e.getValue());
        }
      }
      if (!leaving.isEmpty()) {
        handovers.addAndGet(store.release(leaving));
      }
      claim(
          facts.services().stream()
              .filter(x -> facts.claimable(x) && name.equals(assignment.owners().get(x.name())))
              .map(ClusterFacts.Service::name)
              .toList());
    }

    private void claim(List<String> claimable) {
      List<String> candidates = new ArrayList<>();
      Map<String, Optional<FencingToken>> prior = new HashMap<>();
      for (String s : claimable) {
        if (!held.containsKey(s)) {
          candidates.add(s);
          prior.put(s, store.currentGrant(s));
        }
      }
      if (candidates.isEmpty()) {
        return;
      }
      for (FencingToken token : store.claim(me, candidates)) {
        String s = token.service();
        granted.computeIfAbsent(s, k -> new CopyOnWriteArrayList<>()).add(token.value());
        Optional<FencingToken> before = prior.get(s);
        if (before.isPresent() && !before.get().holder().name().equals(name)) {
          takeovers.incrementAndGet();
        }
        if (oracle.startActing(token, deadline)) {
          held.put(s, token);
        }
      }
    }

    private void releaseOne() {
      if (held.isEmpty()) {
        return;
      }
      List<String> mine = new ArrayList<>(held.keySet());
      String s = mine.get(random.nextInt(mine.size()));
      FencingToken t = held.remove(s);
      oracle.stopActing(me, s); // stop first, then release: never a moment with two owners
      store.release(t);
    }

    /** A freeze (GC pause, SIGSTOP) of up to 1.5 leases, with no chance to stop first. */
    private void pause() {
      sleep(TTL.toMillis() / 2 + random.nextInt((int) TTL.toMillis()));
    }

    private void leave() {
      MemberId leaving = me;
      selfFence();
      store.leave(leaving);
    }

    private void selfFence() {
      oracle.stopAll(me);
      held.clear();
      previous = me;
      me = null;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
