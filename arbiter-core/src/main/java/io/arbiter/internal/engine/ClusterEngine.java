package io.arbiter.internal.engine;

import io.arbiter.ArbiterException;
import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusterListener;
import io.arbiter.ClusteredService;
import io.arbiter.FencingToken;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.MemberId;
import io.arbiter.MemberState;
import io.arbiter.MemberStateChange;
import io.arbiter.balance.Assignment;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.events.EventLogConfig;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.EventStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.time.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind {@link Cluster}: one master's membership and the clustered services it may run.
 *
 * <p>Four threads do the work: the lease thread (join, renew, rejoin), the watchdog (stops every
 * service when the lease runs out on this master's monotonic clock, without touching the database),
 * the claim thread (claims free services), and a pool for start/stop callbacks.
 */
public final class ClusterEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Cluster.class);

  private final ClusterStore store;
  private final ClusterConfig config;
  private final Ticker ticker;
  private final Clock clock;
  private final ClusterListener listener;
  private final Map<String, ServiceSlot> slots;
  private final MemberLease lease;
  private final LeaseRenewer renewer;
  private final AssignmentLoop claimLoop;
  private final ExecutorService callbacks;
  private final ScheduledExecutorService watchdog;
  private final List<FencingToken> lostGrants = Collections.synchronizedList(new ArrayList<>());
  private final List<CompletableFuture<?>> fencedStops =
      Collections.synchronizedList(new ArrayList<>());
  private final Object lifecycle = new Object();
  private final Set<String> localStarting = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicBoolean eventLogStarted = new AtomicBoolean();

  private volatile boolean started;
  private volatile boolean closing;
  private volatile ArbiterException failure;
  private volatile long lastWatchdogNanos;
  private volatile long lastWallMinusMonoMillis;
  private Thread renewerThread;
  private Thread claimThread;
  private AutoCloseable subscription;
  private final PeerWiring peers;
  private final io.arbiter.events.EventLog eventLog;

  /** What a {@link Cluster.Builder} collected: everything the engine needs, validated. */
  public record Parts(
      ClusterStore store,
      ClusterConfig config,
      Ticker ticker,
      Clock clock,
      ClusterListener listener,
      Map<ServiceSpec, ClusteredService> services,
      PeerLinkConfig peerLink,
      EventStore eventStore,
      EventLogConfig eventLogConfig) {}

  public ClusterEngine(Parts b) {
    this.store = b.store();
    this.config = b.config();
    this.ticker = b.ticker();
    this.clock = b.clock();
    this.listener = b.listener();
    Map<String, ServiceSlot> slotsByName = new LinkedHashMap<>();
    b.services()
        .forEach((spec, service) -> slotsByName.put(spec.name(), new ServiceSlot(spec, service)));
    this.slots = Collections.unmodifiableMap(slotsByName);
    // The lease is measured on the monotonic ticker, never on the wall clock, unless that very
    // mistake is planted to prove that the chaos checker catches it.
    Ticker leaseClock = PlantedBugs.WALL_CLOCK_LEASE ? () -> clock.millis() * 1_000_000L : ticker;
    this.lease =
        new MemberLease(
            leaseClock, config.leaseTtl(), config.selfFenceMargin(), this::onStateChanged);
    this.renewer = new LeaseRenewer(this, store, config, lease, ticker, leaseClock, clock);
    this.claimLoop = new AssignmentLoop(this, store, config, lease, slots, ticker);
    this.eventLog =
        b.eventStore() == null
            ? null
            : new io.arbiter.events.EventLog(
                b.eventStore(),
                b.eventLogConfig() != null
                    ? b.eventLogConfig()
                    : defaultEventLogConfig(
                        config, ticker, b.peerLink() != null || headsFromChangePoll(store)));
    this.peers =
        b.peerLink() == null
            ? null
            : new PeerWiring(b.peerLink(), config.memberName(), lease, store, ticker, claimLoop);
    this.callbacks =
        Executors.newCachedThreadPool(threads("arbiter-service-" + config.memberName()));
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(
            threads("arbiter-watchdog-" + config.memberName()));
  }

  /** Starts joining in the background. Returns at once; see {@link #awaitActive(Duration)}. */
  public void start() {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException(
            "cluster member " + config.memberName() + " already started");
      }
      started = true;
    }
    log.info("starting cluster member: {}, services={}", config, slots.keySet());
    if (!PlantedBugs.PLANTED.isEmpty()) {
      log.error(
          "{}: safety mechanisms deliberately broken for a checker test: {}",
          config.memberName(),
          PlantedBugs.PLANTED);
    }
    // The event log starts once the master has joined (onJoined): on a fresh database the join
    // creates the schema, and a log started before it fails its first reads.
    if (peers != null && eventLog != null) {
      peers.connect(eventLog);
    }
    if (peers != null) {
      peers.start(); // before the first join, which advertises its address
      renewer.advertise(peers.advertisedAddress());
    }
    lastWallMinusMonoMillis = clock.millis() - TimeUnit.NANOSECONDS.toMillis(ticker.nanos());
    long watchdogPeriod = Math.max(10, Math.min(100, config.selfFenceMargin().toMillis() / 4));
    lastWatchdogNanos = ticker.nanos();
    watchdog.scheduleAtFixedRate(
        this::watch, watchdogPeriod, watchdogPeriod, TimeUnit.MILLISECONDS);
    renewerThread = daemon(renewer, "arbiter-lease-" + config.memberName());
    claimThread = daemon(claimLoop, "arbiter-claims-" + config.memberName());
    if (peers == null || store.pushesChanges()) {
      // With a peer link, a store without push needs no poll: peers wake each other, and the
      // heartbeat reads the change epoch anyway.
      subscription =
          eventLog != null && headsFromChangePoll(store)
              ? store.subscribe(
                  this::wakeClaims, this::onPolledEventHead, config.changePollInterval())
              : store.subscribe(this::wakeClaims, config.changePollInterval());
    }
  }

  /**
   * Waits until this master holds a lease. Returns false on timeout.
   *
   * @throws ArbiterException if the master failed for good (bad schema, name in use, credentials)
   */
  public boolean awaitActive(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      if (failure != null) {
        throw failure;
      }
      if (lease.state() == MemberState.ACTIVE) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  public MemberState state() {
    return lease.state();
  }

  /** The failure that put this member in {@link MemberState#FAILED}, if any. */
  public Optional<ArbiterException> failure() {
    return Optional.ofNullable(failure);
  }

  /** The current incarnation, while this master holds a lease. */
  public Optional<MemberId> member() {
    return Optional.ofNullable(lease.current());
  }

  public ClusterConfig config() {
    return config;
  }

  /** Names of the services running on this master now. */
  public Set<String> runningServices() {
    Set<String> names = new TreeSet<>();
    slots
        .values()
        .forEach(
            slot -> {
              if (slot.running() != null) {
                names.add(slot.name());
              }
            });
    return names;
  }

  /**
   * Who should run what, as this master last computed it (empty before the first computation).
   * Every master computes the same answer from the same facts.
   */
  public Optional<Assignment> assignment() {
    return Optional.ofNullable(claimLoop.assignment());
  }

  /** The token a service runs under on this master, if it runs here. */
  public Optional<FencingToken> tokenOf(String service) {
    ServiceSlot slot = slots.get(service);
    ServiceGrant grant = slot == null ? null : slot.running();
    return grant == null ? Optional.empty() : Optional.of(grant.token());
  }

  /**
   * Leaves cleanly: stops claiming, stops every service (still renewing, so no one takes over while
   * a stop callback runs), then releases all claims and marks this member stopped in one
   * transaction, which wakes the other masters at once.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closing) {
        return;
      }
      closing = true;
    }
    if (!started) {
      lease.finish(MemberState.STOPPED, "closed before it started");
      shutdownExecutors();
      return;
    }
    claimLoop.stop();
    joinQuietly(claimThread);
    List<String> stopped = stopAll("this master is stopping");
    renewer.stop();
    joinQuietly(renewerThread);
    MemberId me = lease.current();
    if (failure != null) {
      lease.finish(MemberState.FAILED, failure.getMessage());
    } else {
      lease.finish(MemberState.STOPPED, "closed: left the cluster");
    }
    if (me != null) {
      if (peers != null) {
        peers.leaving();
      }
      try {
        store.leave(me);
        announceChange();
        log.info(
            "{} left the cluster cleanly; released {} service(s): {}", me, stopped.size(), stopped);
      } catch (ArbiterException e) {
        log.warn(
            "{} could not release its services ({}); other masters take them when its lease runs"
                + " out within {} ms",
            me,
            e.getMessage(),
            config.leaseTtl().toMillis());
      }
    }
    closeQuietly(subscription);
    if (eventLog != null) {
      eventLog.close();
    }
    if (peers != null) {
      peers.close();
    }
    shutdownExecutors();
  }

  /**
   * The cluster event log, if this master was built with one ({@link Builder#events}): publish
   * events that every master reads in order, and build {@link io.arbiter.events.ClusterCache}s on
   * it.
   */
  public Optional<io.arbiter.events.EventLog> events() {
    return Optional.ofNullable(eventLog);
  }

  /**
   * The peer link, if this master runs one: its views of the other masters (alive, cut off from the
   * database, partitioned from this master, dead) and its counters of rejected frames.
   */
  public Optional<io.arbiter.peer.PeerLink> peerLink() {
    return peers == null ? Optional.empty() : Optional.of(peers.link());
  }

  /**
   * The event log's settings when the cluster runs it: the heartbeat reports the log's head every
   * renewal, so the safety poll can be slow; with a peer link, publishes wake the readers over the
   * link, so a database without NOTIFY (MariaDB) needs no quick poll either.
   */
  /**
   * A store that polls for changes (MariaDB) and reads the event log's head in the same statement:
   * the event log is fed by that poll and needs none of its own.
   */
  private static boolean headsFromChangePoll(ClusterStore store) {
    return !store.pushesChanges() && store.pollReportsEventHead();
  }

  /** The head as the change poll read it; its send time moved onto this master's ticker. */
  private void onPolledEventHead(long headSeq, long sentSystemNanos) {
    long age = System.nanoTime() - sentSystemNanos;
    eventLog.onHeartbeat(headSeq, ticker.nanos() - Math.max(0, age));
  }

  /**
   * The event log's settings when the caller gives none: a long safety poll, and no short poll when
   * something else wakes it (the peer link, or a change poll that reads the head).
   */
  private static io.arbiter.events.EventLogConfig defaultEventLogConfig(
      ClusterConfig config, Ticker ticker, boolean wokenOtherwise) {
    io.arbiter.events.EventLogConfig.Builder b =
        io.arbiter.events.EventLogConfig.builder(config.memberName())
            .ticker(ticker)
            .safetyPollInterval(java.time.Duration.ofSeconds(60));
    if (wokenOtherwise) {
      b.pollInterval(java.time.Duration.ofSeconds(60));
    }
    return b.build();
  }

  // ---- called by the engine's threads ----

  boolean isClosing() {
    return closing;
  }

  List<ServiceSpec> serviceSpecs() {
    return slots.values().stream().map(ServiceSlot::spec).toList();
  }

  /** A push from another master (NOTIFY): the cluster changed. */
  void wakeClaims() {
    claimLoop.onChangeNotified();
  }

  void onHeartbeat(MemberId member, Heartbeat heartbeat, long sentNanos) {
    if (eventLog != null && heartbeat.eventHead() >= 0) {
      eventLog.onHeartbeat(heartbeat.eventHead(), sentNanos);
    }
    if (peers != null) {
      peers.onHeartbeat(heartbeat, sentNanos);
    }
    claimLoop.onHeartbeat(member, heartbeat);
  }

  /** The database's clock stepped forward: expire no other member until {@code untilNanos}. */
  void holdExpiryUntil(long untilNanos) {
    claimLoop.holdExpiryUntil(untilNanos);
  }

  /** After a change this master committed: wakes the peers (a hint; they also poll or listen). */
  void announceChange() {
    if (peers != null) {
      peers.announceChange();
    }
  }

  void onJoined(MemberId member, long sentNanos) {
    listener.joined(member, sentNanos);
    log.info(
        "{} joined the cluster (lease {} ms by the database clock, renewed every {} ms)",
        member,
        config.leaseTtl().toMillis(),
        config.renewInterval().toMillis());
    reportLostGrants();
    claimLoop.onJoined();
    if (eventLog != null) {
      synchronized (lifecycle) { // so that close() either sees it started or stops it starting
        if (!closing && eventLogStarted.compareAndSet(false, true)) {
          eventLog.start(); // after the first join: the schema exists now
        }
      }
    }
  }

  void fail(ArbiterException e) {
    failure = e;
    log.error("{} cannot go on: {}", config.memberName(), e.getMessage());
    MemberId member = lease.current();
    if (member != null) {
      selfFence(member, "member failed");
    }
    lease.finish(MemberState.FAILED, e.getMessage());
  }

  /**
   * Gives up {@code member}'s lease: every service running under it is told to stop at once (in
   * parallel, without waiting on the database), and the lease thread rejoins as a new incarnation.
   */
  void selfFence(MemberId member, String reason) {
    List<ServiceGrant> grants = new ArrayList<>();
    // Under the lock of fencedStops: the lease thread rejoins as soon as the lease is fenced, and
    // awaitFencedStops() must then see every stop registered here, not a partial list.
    synchronized (fencedStops) {
      if (!member.equals(lease.current()) || lease.fence(reason) == null) {
        return;
      }
      for (ServiceSlot slot : slots.values()) {
        // Every grant held here, also one whose start callback is still running: that start
        // sees its grant ended when it returns, and its stop runs right after it.
        ServiceSlot.Held held = slot.held();
        ServiceGrant grant = held == null ? null : held.grant();
        if (grant != null) {
          grant.end(); // isActive() turns false now, before the stop callback even runs
          grants.add(grant);
          lostGrants.add(grant.token());
          fencedStops.add(
              CompletableFuture.runAsync(() -> slot.stop(grant, "lease lost"), callbacks));
        }
      }
    }
    log.warn(
        "{} self-fencing: {}; stopping {} service(s): {}",
        member,
        reason,
        grants.size(),
        grants.stream().map(g -> g.serviceName() + "@" + g.token().value()).toList());
    listener.fenced(member, reason);
    renewer.wake();
  }

  /**
   * Waits until the stop callbacks of the last self-fence have returned. Rejoining supersedes the
   * old incarnation, which makes its services claimable at once, so it must wait for them to stop.
   */
  void awaitFencedStops() {
    List<CompletableFuture<?>> pending;
    synchronized (fencedStops) {
      pending = new ArrayList<>(fencedStops);
      fencedStops.clear();
    }
    try {
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
          .get(config.callbackTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn(
          "{}: stop callbacks still running after {} ms; rejoining anyway",
          config.memberName(),
          config.callbackTimeout().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      log.warn("a stop callback failed: {}", e.getCause().toString());
    }
  }

  /**
   * Starts just-claimed services in parallel and waits for their start callbacks, up to {@link
   * ClusterConfig#callbackTimeout()}. A grant whose service fails to start is released as a failed
   * start. A start that outlives the wait goes on; when it returns, the assignment thread is woken
   * to look again (a start that failed late is released there, see {@link AssignmentLoop}). Returns
   * the slots that failed.
   */
  List<ServiceSlot> startServices(List<FencingToken> grants) {
    Map<FencingToken, CompletableFuture<ServiceSlot.StartResult>> starts = new LinkedHashMap<>();
    for (FencingToken token : grants) {
      ServiceSlot slot = slots.get(token.service());
      ServiceGrant grant = new ServiceGrant(token, lease, this);
      // Reserved here, on the assignment thread, before the start is even scheduled: from now on
      // a self-fence sees the grant, and no later round takes the slot for free.
      if (!slot.reserve(grant)) {
        log.warn("service {}: won token {} but the slot is still held", slot.name(), token);
        continue;
      }
      try {
        starts.put(token, CompletableFuture.supplyAsync(() -> slot.start(grant), callbacks));
      } catch (RejectedExecutionException e) {
        slot.unreserve(grant); // closing: close() leaves the cluster, which releases the grant
      }
    }
    long deadline = System.nanoTime() + config.callbackTimeout().toNanos();
    List<ServiceSlot> failed = new ArrayList<>();
    for (Map.Entry<FencingToken, CompletableFuture<ServiceSlot.StartResult>> e :
        starts.entrySet()) {
      FencingToken token = e.getKey();
      ServiceSlot slot = slots.get(token.service());
      try {
        ServiceSlot.StartResult result =
            e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (result == ServiceSlot.StartResult.FAILED) {
          if (!PlantedBugs.KEEP_FAILED_START) {
            releaseFailedStart(token);
          }
          failed.add(slot);
        }
      } catch (TimeoutException ex) {
        log.warn(
            "service {}: start callback still running after {} ms; it keeps token {} until the"
                + " callback returns",
            slot.name(),
            config.callbackTimeout().toMillis(),
            token.value());
        e.getValue().whenComplete((result, error) -> claimLoop.onChangeNotified());
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return failed;
      } catch (ExecutionException ex) {
        releaseFailedStart(token);
        failed.add(slot);
      }
    }
    return failed;
  }

  /**
   * Starts a local service under a grant of its own: local services run on every matching master at
   * once, so they hold no claim and their token is 0 (their writes cannot be fenced).
   */
  void startLocal(ServiceSlot slot, MemberId member) {
    if (!localStarting.add(slot.name())) {
      return; // a start is already under way; the next round sees it running
    }
    ServiceGrant grant = new ServiceGrant(new FencingToken(slot.name(), 0, member), lease, this);
    CompletableFuture.runAsync(
        () -> {
          try {
            slot.start(grant);
          } finally {
            localStarting.remove(slot.name());
          }
        },
        callbacks);
  }

  /**
   * Stops services that move to another master, in parallel, and returns their tokens for release.
   * The release comes after every stop callback returned, so the new owner never overlaps.
   */
  List<FencingToken> stopForHandover(
      List<ServiceSlot> leaving, java.util.function.Consumer<FencingToken> stoppedLate) {
    Map<ServiceSlot, CompletableFuture<ServiceGrant>> stops = new LinkedHashMap<>();
    for (ServiceSlot slot : leaving) {
      ServiceGrant grant = slot.running();
      if (grant != null) {
        stops.put(
            slot,
            CompletableFuture.supplyAsync(
                () -> slot.stop(grant, "moving to the master the balancer chose"), callbacks));
      }
    }
    List<FencingToken> tokens = new ArrayList<>();
    long deadline = System.nanoTime() + config.callbackTimeout().toNanos();
    for (Map.Entry<ServiceSlot, CompletableFuture<ServiceGrant>> e : stops.entrySet()) {
      try {
        ServiceGrant stopped =
            e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (stopped != null) {
          tokens.add(stopped.token());
        }
      } catch (TimeoutException ex) {
        // Released when the callback returns: never before, so the new owner cannot overlap.
        log.warn(
            "service {}: stop callback still running after {} ms; it is handed over when it"
                + " returns",
            e.getKey().name(),
            config.callbackTimeout().toMillis());
        e.getValue()
            .thenAccept(
                stopped -> {
                  if (stopped != null) {
                    stoppedLate.accept(stopped.token());
                  }
                });
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException ex) {
        log.warn("service {}: stop failed: {}", e.getKey().name(), ex.getCause().toString());
      }
    }
    return tokens;
  }

  void onFencingRejected(ServiceGrant grant, FencingTokenRejectedException rejection) {
    log.warn(
        "service {}: write with fencing token {} rejected; current token is {} held by {}:"
            + " stopping it on {}",
        grant.serviceName(),
        grant.token().value(),
        rejection.currentToken(),
        rejection.currentOwner() == null ? "nobody" : rejection.currentOwner(),
        grant.member());
    grant.end();
    ServiceSlot slot = slots.get(grant.serviceName());
    try {
      callbacks.execute(
          () -> {
            if (slot.stop(grant, "fencing token rejected") != null) {
              releaseQuietly(grant.token());
            }
          });
    } catch (RejectedExecutionException e) {
      // The master has closed (or is closing): close() stops every service and leaves, which
      // releases this grant too. The report came from the service's own thread: do not throw.
      log.info(
          "service {}: rejection of token {} heard after the master closed; nothing left to stop",
          grant.serviceName(),
          grant.token().value());
    }
  }

  // ---- internals ----

  /** Runs every few ms on its own thread; never touches the database. */
  private void watch() {
    long now = ticker.nanos();
    long gap = now - lastWatchdogNanos;
    lastWatchdogNanos = now;
    if (gap > config.leaseTtl().toNanos() / 2) {
      log.warn(
          "{}: this process was stalled for {} ms (GC pause, SIGSTOP, overloaded machine); the"
              + " lease is {} ms",
          config.memberName(),
          TimeUnit.NANOSECONDS.toMillis(gap),
          config.leaseTtl().toMillis());
    }
    watchWallClock(now);
    MemberId member = lease.current();
    if (member != null && lease.hasRunOut() && !PlantedBugs.NO_SELF_FENCE) {
      selfFence(
          member,
          "no successful renewal for "
              + TimeUnit.NANOSECONDS.toMillis(lease.nanosSinceLastRenewalSent())
              + " ms, the lease ran out on this master's clock");
    }
  }

  /** Warns when the wall clock jumps: harmless for leases, but the operator should know. */
  private void watchWallClock(long monoNanos) {
    long offset = clock.millis() - TimeUnit.NANOSECONDS.toMillis(monoNanos);
    long jump = offset - lastWallMinusMonoMillis;
    lastWallMinusMonoMillis = offset;
    if (Math.abs(jump) >= 1000) {
      log.warn(
          "{}: the wall clock jumped by {} ms; leases do not use it (database clock and monotonic"
              + " clock), so nothing changes",
          config.memberName(),
          jump);
    }
  }

  private void onStateChanged(MemberState from, MemberState to, MemberId member, String reason) {
    try {
      listener.stateChanged(
          new MemberStateChange(
              config.memberName(), Optional.ofNullable(member), from, to, reason));
    } catch (RuntimeException e) {
      log.warn(
          "{}: a ClusterListener threw on a state change: {}", config.memberName(), e.toString());
    }
  }

  void onRenewed(MemberId member, long sentNanos) {
    listener.renewed(member, sentNanos);
  }

  /** After a rejoin, says who holds each service this master lost, naming both tokens. */
  private void reportLostGrants() {
    List<FencingToken> lost;
    synchronized (lostGrants) {
      lost = new ArrayList<>(lostGrants);
      lostGrants.clear();
    }
    for (FencingToken old : lost) {
      try {
        Optional<FencingToken> now = store.currentGrant(old.service());
        if (now.isPresent() && now.get().value() > old.value()) {
          log.warn(
              "service {} was taken over while {} had lost its lease: its token {} is stale, the"
                  + " current token is {} held by {}",
              old.service(),
              old.holder(),
              old.value(),
              now.get().value(),
              now.get().holder());
        } else {
          log.info(
              "service {}: no other master took it after {} lost token {}",
              old.service(),
              old.holder(),
              old.value());
        }
      } catch (ArbiterException e) {
        log.debug("could not look up the current grant of {}: {}", old.service(), e.getMessage());
      }
    }
  }

  private List<String> stopAll(String reason) {
    List<String> names = new ArrayList<>();
    List<CompletableFuture<?>> stops = new ArrayList<>();
    for (ServiceSlot slot : slots.values()) {
      if (slot.held() != null) { // a start still running is stopped right after it returns
        names.add(slot.name());
        stops.add(CompletableFuture.runAsync(() -> slot.stop(null, reason), callbacks));
      }
    }
    try {
      CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
          .get(config.callbackTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn(
          "some stop callbacks still running after {} ms", config.callbackTimeout().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      log.warn("a stop callback failed: {}", e.getCause().toString());
    }
    return names;
  }

  private void releaseFailedStart(FencingToken token) {
    try {
      store.releaseFailedStart(token);
    } catch (ArbiterException e) {
      // The next round finds the row owned here with nothing running, and releases it then.
      log.warn("could not release {} after its failed start: {}", token, e.getMessage());
      claimLoop.lookAgainNextRound();
    }
  }

  private void releaseQuietly(FencingToken token) {
    try {
      store.release(token);
    } catch (ArbiterException e) {
      log.warn("could not release {}: {}", token, e.getMessage());
    }
  }

  private void shutdownExecutors() {
    watchdog.shutdownNow();
    callbacks.shutdown();
  }

  private static Thread daemon(Runnable task, String name) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static void joinQuietly(Thread t) {
    if (t == null) {
      return;
    }
    try {
      t.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.debug("closing {}: {}", c, e.toString());
    }
  }
}
