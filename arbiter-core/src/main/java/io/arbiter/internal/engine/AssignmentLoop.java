package io.arbiter.internal.engine;

import io.arbiter.ClusterConfig;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.MemberState;
import io.arbiter.StoreUnavailableException;
import io.arbiter.balance.Assignment;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.time.Ticker;
import io.arbiter.time.Wakeup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assignment thread: makes this master run what the balancer gives it, and nothing else.
 *
 * <p>It reads the cluster's facts (members, services, rules, grants) only when they may have
 * changed: when a heartbeat reports a new change epoch, when another master pushes a notification,
 * or when a lease it was told about is due to run out. At rest it runs no statement at all: the
 * heartbeat of the lease thread is the whole cost of a master.
 *
 * <p>Each time, it computes the assignment (the same on every master, see {@link
 * ClusterFacts#assignment()}), then:
 *
 * <ol>
 *   <li>hands over what is no longer its own: stops the service, then releases the grant, so the
 *       new owner can only claim it after it stopped here (no overlap). At most {@link
 *       ClusterConfig#maxMovesInFlight()} handed-over services may wait for their new owner at
 *       once;
 *   <li>claims what is its own and free (unowned, or its owner is known to be dead), in one batch,
 *       and starts it;
 *   <li>starts and stops its local services (those that run on every matching master).
 * </ol>
 *
 * <p>A service that is its own but still held by a live master is left alone: that master computes
 * the same assignment and releases it, which bumps the epoch and wakes this thread.
 */
final class AssignmentLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(AssignmentLoop.class);

  /** Slack after a lease's due time, so the database's clock has passed it when we look. */
  private static final long EXPIRY_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /** How long a service that failed to start is left for other masters before we try it again. */
  private static final long START_FAILURE_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);

  private static final long NEVER = Long.MAX_VALUE;

  /** How long to let a burst of changes land before reading them. */
  private static final long COALESCE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final ClusterEngine cluster;
  private final ClusterStore store;
  private final ClusterConfig config;
  private final MemberLease lease;
  private final Map<String, ServiceSlot> slots;
  private final List<ServiceSlot> slotsByName;
  private final Ticker ticker;
  private final Wakeup wakeup = new Wakeup();
  private volatile boolean running = true;

  // Written by the lease and notification threads, read here.
  private volatile boolean changeHinted = true;
  private volatile boolean overdueSeen;
  private volatile long expiryDueNanos = NEVER;

  /** Until when (ticker) this master expires no other member: a database clock step was seen. */
  private volatile long expiryHeldUntilNanos;

  private volatile boolean expiryHeld;

  private volatile boolean resetRequested;

  // Owned by this thread: the facts as merged from full and incremental reads.
  private volatile long factsEpoch = -1;
  private final Map<String, ClusterFacts.Service> known = new HashMap<>();
  private Set<Object> knownPlacementOfMembers = Set.of();
  private volatile Assignment assignment;
  private long retryAtNanos = NEVER;

  /** Handed-over services waiting for their new owner, with when they were released. */
  private final Map<String, Long> handedOver = new HashMap<>();

  /**
   * Services stopped for a hand-over but not yet released (the release failed, or the stop callback
   * returned late): released first thing in every round, so none stays owned by this master while
   * running nowhere.
   */
  private final java.util.Queue<FencingToken> toRelease =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  private volatile boolean forceFullRead;
  private final Set<String> warnedNotHere = new HashSet<>();
  private Map<String, String> lastUnplaceable = Map.of();

  AssignmentLoop(
      ClusterEngine cluster,
      ClusterStore store,
      ClusterConfig config,
      MemberLease lease,
      Map<String, ServiceSlot> slots,
      Ticker ticker) {
    this.cluster = cluster;
    this.store = store;
    this.config = config;
    this.lease = lease;
    this.slots = slots;
    this.ticker = ticker;
    this.slotsByName = new TreeSet<>(slots.keySet()).stream().map(slots::get).toList();
  }

  @Override
  public void run() {
    while (running) {
      long sleepNanos;
      try {
        sleepNanos = round();
      } catch (StoreUnavailableException e) {
        log.debug("assignment round failed: {}", e.getMessage());
        changeHinted = true; // look again once the database answers
        sleepNanos = config.retryBackoffMin().toNanos();
      } catch (RuntimeException | Error e) {
        // Log and go on: a dead thread would leave a live member that never claims.
        log.error("assignment round failed unexpectedly: {}", e, e);
        changeHinted = true;
        sleepNanos = config.claimPollInterval().toNanos();
      }
      if (running) {
        wakeup.await(sleepNanos);
      }
    }
  }

  /** Called by the lease thread after every successful renewal. */
  void onHeartbeat(MemberId me, Heartbeat heartbeat) {
    boolean wake = false;
    if (heartbeat.changeEpoch() != factsEpoch) {
      // Lower happens when a heartbeat's snapshot predates the last read (harmless: the read below
      // finds nothing new), or when the database went back in time (see readFacts).
      changeHinted = true;
      wake = true;
    }
    if (heartbeat.overdue() > 0) {
      overdueSeen = true;
      wake = true;
    }
    long now = ticker.nanos();
    expiryDueNanos =
        heartbeat.nextExpiry(me).map(d -> now + d.toNanos() + EXPIRY_SLACK_NANOS).orElse(NEVER);
    if (wake) {
      wakeup.signal();
    }
  }

  /**
   * The database's clock stepped forward: every lease looked older to it at once, so an overdue
   * member may be a victim of the step whose own clock still gives it time. It learns of the step
   * at its next renewal (which fails if its lease ran out by the database's clock, and then it
   * stops its services); until one lease has passed here, this master expires no one.
   */
  void holdExpiryUntil(long untilNanos) {
    expiryHeldUntilNanos = untilNanos;
    expiryHeld = true;
    wakeup.signal();
  }

  /** A stop for a hand-over that returned after the round gave up waiting: release it soon. */
  void releaseLater(FencingToken token) {
    toRelease.add(token);
    wakeup.signal();
  }

  /**
   * Something this thread did failed in a way the next round repairs (a release after a failed
   * start): look at the facts again next round, without waking now (so a database that keeps
   * failing the same statement is tried once per round, not in a tight loop).
   */
  void lookAgainNextRound() {
    changeHinted = true;
  }

  /** A push from another master: something changed. */
  void onChangeNotified() {
    changeHinted = true;
    wakeup.signal();
  }

  /** A peer's link was lost: look at the database when its lease is due (it may have died). */
  void onLeaseExpiryHint() {
    overdueSeen = true;
    changeHinted = true;
    wakeup.signal();
  }

  /** A new incarnation: nothing learned before still holds. */
  void onJoined() {
    resetRequested = true; // this thread clears its state, at the start of its next round
    changeHinted = true;
    wakeup.signal();
  }

  void stop() {
    running = false;
    wakeup.close();
  }

  /** The assignment as last computed (null before the first). */
  Assignment assignment() {
    return assignment;
  }

  /** One look; returns how long to sleep before the next unless woken. */
  private long round() {
    long idle = config.claimPollInterval().toNanos();
    MemberId me = lease.current();
    if (me == null || lease.state() != MemberState.ACTIVE || !lease.isValid(me)) {
      return idle; // the lease thread wakes us once we hold a lease again
    }
    if (resetRequested) {
      resetRequested = false;
      handedOver.clear();
      toRelease.clear(); // the old incarnation's grants are dead; nothing to release
      known.clear();
      factsEpoch = -1;
      assignment = null;
    }
    long now = ticker.nanos();
    long due = expiryDueNanos;
    boolean holding = expiryHeld && now - expiryHeldUntilNanos < 0;
    if (expiryHeld && !holding) {
      expiryHeld = false;
      log.info("{}: expiring overdue members again, one lease after the database clock step", me);
    }
    if (!holding && (overdueSeen || (due != NEVER && now - due >= 0))) {
      overdueSeen = false;
      expiryDueNanos = NEVER; // the next heartbeat sets it again
      int expired = store.expireOverdueMembers();
      if (expired > 0) {
        log.info(
            "{}: marked {} member(s) expired (their lease ran out by the database clock)",
            me,
            expired);
        changeHinted = true;
      }
    }
    if (!toRelease.isEmpty()) {
      releasePending(me);
    }
    if (changeHinted || (retryAtNanos != NEVER && now - retryAtNanos >= 0)) {
      // Changes come in bursts (each old master releases when one joins): let them land, so one
      // read covers them.
      wakeup.sleepUnlessClosed(COALESCE_NANOS);
      changeHinted = false; // before reading, so a change during the read is looked at again
      retryAtNanos = NEVER;
      act(me, readFacts());
    }
    long next = idle;
    long nowAfter = ticker.nanos();
    long heldUntil = holding ? expiryHeldUntilNanos : NEVER;
    for (long at : new long[] {expiryDueNanos, retryAtNanos, heldUntil}) {
      if (at != NEVER) {
        next = Math.min(next, Math.max(0, at - nowAfter));
      }
    }
    return next;
  }

  /** Releases what was stopped for a hand-over but not released yet; on failure, tries again. */
  private void releasePending(MemberId me) {
    List<FencingToken> batch = new ArrayList<>();
    for (FencingToken t; (t = toRelease.poll()) != null; ) {
      if (t.holder().equals(me)) {
        batch.add(t);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      store.release(batch);
    } catch (RuntimeException e) {
      toRelease.addAll(batch);
      retryAtNanos = Math.min(retryAtNanos, ticker.nanos() + config.retryBackoffMin().toNanos());
      throw e;
    }
    cluster.announceChange();
    long now = ticker.nanos();
    batch.forEach(t -> handedOver.put(t.service(), now));
    changeHinted = true;
    log.info("{}: released {} service(s) stopped earlier for a hand-over", me, batch.size());
  }

  /**
   * Reads what changed since the last read (everything, the first time) and merges it into what is
   * known. The assignment is computed again only when its inputs changed (members, capacities,
   * tags, drains, rules, moves, failed starts), not on claims and releases, which are most changes.
   */
  private ClusterFacts readFacts() {
    if (forceFullRead) {
      forceFullRead = false;
      known.clear();
      factsEpoch = -1;
      assignment = null;
    }
    ClusterFacts delta = store.factsSince(factsEpoch);
    if (delta.changeEpoch() < factsEpoch) {
      // The epoch only grows, and this thread's reads follow each other: the database went back
      // in time (a failover to a replica that had not received the last commits, or a restore).
      // What is known here may be newer than the database: read everything again.
      log.warn(
          "the cluster's change counter went back from {} to {}: the database lost commits (a"
              + " failover or a restore); reading everything again",
          factsEpoch,
          delta.changeEpoch());
      known.clear();
      assignment = null;
      delta = store.factsSince(-1);
    }
    Set<Object> placementOfMembers = new HashSet<>();
    for (ClusterFacts.Member m : delta.members()) {
      placementOfMembers.add(List.of(m.incarnation(), m.spec()));
    }
    boolean placementChanged =
        assignment == null || !placementOfMembers.equals(knownPlacementOfMembers);
    knownPlacementOfMembers = placementOfMembers;
    for (ClusterFacts.Service s : delta.services()) {
      ClusterFacts.Service before = known.put(s.name(), s);
      if (before == null
          || !before.spec().equals(s.spec())
          || !before.moveTo().equals(s.moveTo())
          || !before.startFailedBy().equals(s.startFailedBy())) {
        placementChanged = true;
      }
    }
    factsEpoch = delta.changeEpoch();
    if (placementChanged) {
      // Only now is a copy of every known service needed.
      assignment =
          new ClusterFacts(delta.changeEpoch(), delta.members(), List.copyOf(known.values()))
              .assignment();
    }
    return delta; // its members are all the members; the services are merged into `known`
  }

  /**
   * @param delta the last read: all live members, and the services changed since the read before
   *     (already merged into {@link #known})
   */
  private void act(MemberId me, ClusterFacts delta) {
    Assignment assignment = this.assignment;
    reportUnplaceable(assignment);
    releaseOrphans(me);
    handOver(me, assignment, known);
    if (!running || !lease.isValid(me)) {
      return;
    }
    claim(me, assignment, known, delta.liveIds());
    runLocal(me, assignment);
  }

  /**
   * Releases every service that this incarnation owns in the database while nothing here holds it
   * (not starting, running or stopping): a claim whose commit succeeded but whose acknowledgement
   * was lost, a start that failed after {@link ClusterConfig#callbackTimeout()}, a release that
   * failed. Left alone, such a row would keep the service from every other master while it runs
   * nowhere. A failed start is released as one (the balancer then prefers another master); the
   * others are released plainly, and the next round claims them again with a new token.
   *
   * <p>Safe against the other threads of this master: only this thread reserves a slot, so a slot
   * found free stays free during this round; a row whose stop for a hand-over returned late may be
   * released here and again from {@link #toRelease}, which is a no-op the second time.
   */
  private void releaseOrphans(MemberId me) {
    if (PlantedBugs.FORGET_LOST_ACK) {
      return;
    }
    List<FencingToken> orphans = new ArrayList<>();
    List<FencingToken> failedStarts = new ArrayList<>();
    for (ClusterFacts.Service s : known.values()) {
      if (s.owner().isEmpty() || !s.owner().get().equals(me)) {
        continue;
      }
      ServiceSlot slot = slots.get(s.name());
      if (slot != null && slot.held() != null) {
        continue;
      }
      FencingToken token = new FencingToken(s.name(), s.token(), me);
      if (slot != null && token.equals(slot.lastFailedStart())) {
        if (PlantedBugs.KEEP_FAILED_START) {
          continue;
        }
        failedStarts.add(token);
      } else {
        orphans.add(token);
      }
    }
    if (orphans.isEmpty() && failedStarts.isEmpty()) {
      return;
    }
    log.warn(
        "{}: {} service(s) owned by this master in the database but running nowhere (a commit"
            + " whose acknowledgement was lost, or a start or release that failed): releasing"
            + " them: {}",
        me,
        orphans.size() + failedStarts.size(),
        java.util.stream.Stream.concat(orphans.stream(), failedStarts.stream())
            .map(t -> t.service() + "@" + t.value())
            .toList());
    long backOffUntil = ticker.nanos() + START_FAILURE_BACKOFF_NANOS;
    for (FencingToken t : failedStarts) {
      store.releaseFailedStart(t);
      slots.get(t.service()).backOffUntil(backOffUntil);
      retryAtNanos = Math.min(retryAtNanos, backOffUntil);
    }
    if (!orphans.isEmpty()) {
      store.release(orphans);
    }
    cluster.announceChange();
    changeHinted = true; // read what the releases changed, and claim again
  }

  /** Stops and releases what the assignment gives to another master, a bounded number at once. */
  private void handOver(
      MemberId me, Assignment assignment, Map<String, ClusterFacts.Service> byName) {
    // A handed-over service is in flight until its new owner holds it, it is gone, the assignment
    // no longer gives it to another master (unplaceable, or back to us), or a lease has passed
    // (its new owner may not run it at all): so the budget cannot leak.
    long now = ticker.nanos();
    long patience = 2 * config.leaseTtl().toNanos();
    handedOver
        .entrySet()
        .removeIf(
            e -> {
              ClusterFacts.Service s = byName.get(e.getKey());
              String owner = assignment.owners().get(e.getKey());
              return s == null
                  || s.owner().isPresent()
                  || owner == null
                  || owner.equals(me.name())
                  || now - e.getValue() > patience;
            });
    int budget = config.maxMovesInFlight() - handedOver.size();
    if (budget <= 0) {
      return;
    }
    List<ServiceSlot> leaving = new ArrayList<>();
    for (ServiceSlot slot : slotsByName) {
      ServiceGrant grant = slot.running();
      if (grant == null || slot.isLocal()) {
        continue;
      }
      String owner = assignment.owners().get(slot.name());
      // Unplaceable services keep running where they are: better than running nowhere.
      if (owner != null && !owner.equals(me.name())) {
        leaving.add(slot);
        if (leaving.size() == budget) {
          break;
        }
      }
    }
    if (leaving.isEmpty()) {
      return;
    }
    // Stops that return late are released by a later round (toRelease, woken by the callback).
    List<FencingToken> tokens = cluster.stopForHandover(leaving, this::releaseLater);
    int released;
    try {
      released = store.release(tokens);
    } catch (RuntimeException e) {
      toRelease.addAll(tokens); // stopped: they must be released, next round
      throw e;
    }
    cluster.announceChange();
    long releasedAt = ticker.nanos();
    tokens.forEach(t -> handedOver.put(t.service(), releasedAt));
    log.info(
        "{}: handed over {} service(s) to the masters the balancer chose: {}",
        me,
        released,
        leaving.size() <= 20
            ? leaving.stream()
                .map(s -> s.name() + "->" + assignment.owners().get(s.name()))
                .toList()
            : leaving.size() + " services");
  }

  private void claim(
      MemberId me,
      Assignment assignment,
      Map<String, ClusterFacts.Service> byName,
      Set<MemberId> live) {
    long now = ticker.nanos();
    List<String> candidates = new ArrayList<>();
    for (Map.Entry<String, String> e : assignment.owners().entrySet()) {
      if (!e.getValue().equals(me.name())) {
        continue;
      }
      ServiceSlot slot = slots.get(e.getKey());
      if (slot == null) {
        if (warnedNotHere.add(e.getKey())) {
          log.warn(
              "{}: the balancer gives service {} to this master, but it is not registered here;"
                  + " register the same services on every master",
              me,
              e.getKey());
        }
        continue;
      }
      ClusterFacts.Service service = byName.get(e.getKey());
      if (slot.held() != null || service == null || !ClusterFacts.claimable(service, live)) {
        continue;
      }
      if (slot.inBackoff(now)) {
        retryAtNanos = Math.min(retryAtNanos, slot.notBefore());
        continue;
      }
      candidates.add(e.getKey());
    }
    if (candidates.isEmpty() || !running || !lease.isValid(me)) {
      return;
    }
    List<FencingToken> won = store.claim(me, candidates);
    if (won.size() < candidates.size()) {
      // What this master knew was stale (a master of an older version that does not stamp its
      // changes, or a change it has not read yet): read everything again next time.
      forceFullRead = true;
      changeHinted = true;
    }
    if (won.isEmpty()) {
      return;
    }
    cluster.announceChange();
    log.info(
        "{}: acquired {} service(s): {}",
        me,
        won.size(),
        won.size() <= 20
            ? won.stream().map(t -> t.service() + "@" + t.value()).toList()
            : won.size() + " services");
    for (ServiceSlot failed : cluster.startServices(won)) {
      long until = ticker.nanos() + START_FAILURE_BACKOFF_NANOS;
      failed.backOffUntil(until);
      retryAtNanos = Math.min(retryAtNanos, until);
    }
  }

  private void runLocal(MemberId me, Assignment assignment) {
    for (ServiceSlot slot : slots.values()) {
      if (!slot.isLocal()) {
        continue;
      }
      boolean here = assignment.local().getOrDefault(slot.name(), Set.of()).contains(me.name());
      ServiceGrant grant = slot.running();
      if (here && slot.held() == null) {
        cluster.startLocal(slot, me);
      } else if (!here && grant != null) {
        slot.stop(grant, "the balancer no longer places this local service here");
      }
    }
  }

  private void reportUnplaceable(Assignment assignment) {
    if (!assignment.unplaceable().equals(lastUnplaceable)) {
      assignment
          .unplaceable()
          .forEach(
              (service, why) -> {
                if (!why.equals(lastUnplaceable.get(service))) {
                  log.warn("service {} cannot be placed: {}", service, why);
                }
              });
      lastUnplaceable = Map.copyOf(assignment.unplaceable());
    }
  }
}
