package io.arbiter;

import io.arbiter.balance.Assignment;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.events.EventLog;
import io.arbiter.events.EventLogConfig;
import io.arbiter.internal.engine.ClusterEngine;
import io.arbiter.peer.PeerLink;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.EventStore;
import io.arbiter.time.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One master's membership of the cluster and the clustered services it may run.
 *
 * <pre>{@code
 * Cluster cluster = Cluster.builder(store, ClusterConfig.builder("master-1").build())
 *     .service("git-poller", new GitPoller())
 *     .build();
 * cluster.start();   // joins in the background, retrying while the database is away
 * ...
 * cluster.close();   // stops services, releases them and leaves in one transaction
 * }</pre>
 *
 * <p>A master holds a lease judged by the database's clock and renews it with one statement for all
 * its claims; each service runs on exactly one live master, under a {@link FencingToken} that only
 * grows. The work is done by an engine in {@code io.arbiter.internal.engine} on four threads: the
 * lease thread (join, renew, rejoin), the watchdog (stops every service when the lease runs out on
 * this master's monotonic clock, without touching the database), the claim thread (claims and
 * balances services), and a pool for start/stop callbacks. See docs/design.md.
 */
public final class Cluster implements AutoCloseable {
  private final ClusterEngine engine;

  private Cluster(ClusterEngine engine) {
    this.engine = engine;
  }

  public static Builder builder(ClusterStore store, ClusterConfig config) {
    return new Builder(store, config);
  }

  /** Starts joining in the background. Returns at once; see {@link #awaitActive(Duration)}. */
  public void start() {
    engine.start();
  }

  /**
   * Waits until this master holds a lease. Returns false on timeout.
   *
   * @throws ArbiterException if the master failed for good (bad schema, name in use, credentials)
   */
  public boolean awaitActive(Duration timeout) throws InterruptedException {
    return engine.awaitActive(timeout);
  }

  public MemberState state() {
    return engine.state();
  }

  /** The failure that put this member in {@link MemberState#FAILED}, if any. */
  public Optional<ArbiterException> failure() {
    return engine.failure();
  }

  /** The current incarnation, while this master holds a lease. */
  public Optional<MemberId> member() {
    return engine.member();
  }

  public ClusterConfig config() {
    return engine.config();
  }

  /** Names of the services running on this master now. */
  public Set<String> runningServices() {
    return engine.runningServices();
  }

  /**
   * Who should run what, as this master last computed it (empty before the first computation).
   * Every master computes the same answer from the same facts.
   */
  public Optional<Assignment> assignment() {
    return engine.assignment();
  }

  /** The token a service runs under on this master, if it runs here. */
  public Optional<FencingToken> tokenOf(String service) {
    return engine.tokenOf(service);
  }

  /**
   * The cluster event log, if this master was built with one ({@link Builder#events}): publish
   * events that every master reads in order, and build {@link io.arbiter.events.ClusterCache}s on
   * it. Its reader starts once this master has first joined (on a fresh database the join creates
   * the schema).
   */
  public Optional<EventLog> events() {
    return engine.events();
  }

  /**
   * The peer link, if this master runs one: its views of the other masters (alive, cut off from the
   * database, partitioned from this master, dead) and its counters of rejected frames.
   */
  public Optional<PeerLink> peerLink() {
    return engine.peerLink();
  }

  /**
   * Leaves cleanly: stops claiming, stops every service (still renewing, so no one takes over while
   * a stop callback runs), then releases all claims and marks this member stopped in one
   * transaction, which wakes the other masters at once.
   */
  @Override
  public void close() {
    engine.close();
  }

  /** Builds a {@link Cluster}: the store, the config and the services this master may run. */
  public static final class Builder {
    private final ClusterStore store;
    private final ClusterConfig config;
    private final Map<String, ServiceSpec> specs = new LinkedHashMap<>();
    private final Map<ServiceSpec, ClusteredService> services = new LinkedHashMap<>();
    private Ticker ticker = Ticker.system();
    private Clock clock = Clock.systemUTC();
    private ClusterListener listener = new ClusterListener() {};
    private PeerLinkConfig peerLink;
    private EventStore eventStore;
    private EventLogConfig eventLogConfig;

    private Builder(ClusterStore store, ClusterConfig config) {
      if (store == null) {
        throw new InvalidConfigException("store", null, "must be given");
      }
      if (config == null) {
        throw new InvalidConfigException("config", null, "must be given");
      }
      this.store = store;
      this.config = config;
    }

    /**
     * Registers a clustered service of weight 1 that may run anywhere: it runs on exactly one live
     * master at a time, the one the balancer chooses.
     */
    public Builder service(String name, ClusteredService service) {
      ClusterConfig.validateName("service name", name);
      return service(ServiceSpec.of(name), service);
    }

    /**
     * Registers a clustered service with a weight and placement rules (a required tag, a pin, an
     * anti-affinity group, or {@link Placement#onEveryMatchingMaster() local}: on every matching
     * master at once). Every master should register the same services with the same rules; the last
     * master to start writes them.
     */
    public Builder service(ServiceSpec spec, ClusteredService service) {
      if (spec == null) {
        throw new InvalidConfigException("service", null, "must not be null");
      }
      ClusterConfig.validateName("service name", spec.name());
      Placement p = spec.placement();
      p.requiredTag().ifPresent(t -> ClusterConfig.validateName("requiredTag", t));
      p.pinnedTo().ifPresent(m -> ClusterConfig.validateName("pinnedTo", m));
      p.antiAffinityGroup().ifPresent(g -> ClusterConfig.validateName("antiAffinityGroup", g));
      if (service == null) {
        throw new InvalidConfigException("service " + spec.name(), null, "must not be null");
      }
      if (specs.putIfAbsent(spec.name(), spec) != null) {
        throw new InvalidConfigException("service name", spec.name(), "is registered twice");
      }
      services.put(spec, service);
      return this;
    }

    /** The monotonic clock for the lease; tests pass a manual one. */
    public Builder ticker(Ticker ticker) {
      this.ticker = ticker;
      return this;
    }

    /**
     * The wall clock. Arbiter never measures a lease with it (leases use the database clock and the
     * monotonic ticker); it only watches it to warn when it jumps.
     */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** Hears joins, renewals and fences (metrics, audit, the chaos checker's history). */
    public Builder listener(ClusterListener listener) {
      this.listener = listener;
      return this;
    }

    /**
     * Runs a peer link beside the database (docs/peer-link.md): authenticated wake-ups between
     * masters, so handoffs are fast without polling, and a second channel that tells a master cut
     * off from the database from one partitioned from this master. Optional.
     */
    public Builder peerLink(PeerLinkConfig peerLink) {
      this.peerLink = peerLink;
      return this;
    }

    /**
     * Runs the cluster event log on {@code store} (docs/events.md): this master reads every event
     * in order from its saved position, and learns the log's head from each heartbeat, so it polls
     * nothing at rest.
     */
    public Builder events(EventStore store) {
      this.eventStore = store;
      return this;
    }

    /** As {@link #events(EventStore)}, with settings of one's own. */
    public Builder events(EventStore store, EventLogConfig config) {
      this.eventStore = store;
      this.eventLogConfig = config;
      return this;
    }

    public Cluster build() {
      if (peerLink != null
          && peerLink
                  .databaseStaleAfter()
                  .compareTo(config.renewInterval().multipliedBy(3).dividedBy(2))
              < 0) {
        // Peers learn each other's renewals from the heartbeat, once per renewal interval: a
        // shorter bound would call every live peer cut off between two heartbeats.
        throw new InvalidConfigException(
            "peerLink.databaseStaleAfter",
            peerLink.databaseStaleAfter(),
            "must be at least 1.5 x renewInterval ("
                + config.renewInterval().toMillis()
                + " ms); set it to 2 x renewInterval");
      }
      return new Cluster(
          new ClusterEngine(
              new ClusterEngine.Parts(
                  store,
                  config,
                  ticker,
                  clock,
                  listener,
                  services,
                  peerLink,
                  eventStore,
                  eventLogConfig)));
    }
  }
}
