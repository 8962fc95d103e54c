package io.arbiter.internal.engine;

import io.arbiter.ArbiterException;
import io.arbiter.ClusterConfig;
import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.MemberState;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.StoreReadOnlyException;
import io.arbiter.StoreUnavailableException;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.spi.MemberInfo;
import io.arbiter.time.Ticker;
import io.arbiter.time.Wakeup;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease thread: joins (retrying with backoff while the database is away), then renews every
 * {@code renewInterval} with one statement. When the database says the lease is gone, the master
 * self-fences and rejoins as a new incarnation. It never renews an incarnation that has been
 * fenced: once fenced, a master only rejoins.
 */
final class LeaseRenewer implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(LeaseRenewer.class);

  /** How often a database that stays read-only is reported again (a WARN per attempt is noise). */
  /** The smallest difference between the database's and this master's time taken for a step. */
  private static final long MIN_STEP_TOLERANCE_MILLIS = 100;

  private static final long READ_ONLY_WARN_EVERY_NANOS = Duration.ofSeconds(30).toNanos();

  private final ClusterEngine cluster;
  private final ClusterStore store;
  private final ClusterConfig config;
  private final MemberLease lease;
  private final Ticker ticker;
  private final Ticker leaseClock;
  private final Clock clock;
  private final Wakeup wakeup = new Wakeup();
  private volatile MemberInfo info;

  private volatile boolean running = true;
  private boolean initialized;
  private long backoffNanos;
  private long nameConflictSinceNanos;
  private int unreachableAttempts;
  private boolean everJoined;
  private long readOnlySinceNanos;
  private Instant readOnlySince;
  private long readOnlyWarnedNanos;

  /**
   * @param ticker the monotonic clock, for listeners
   * @param leaseClock the clock the lease is measured on: the same ticker, unless a bug is planted
   */
  LeaseRenewer(
      ClusterEngine cluster,
      ClusterStore store,
      ClusterConfig config,
      MemberLease lease,
      Ticker ticker,
      Ticker leaseClock,
      Clock clock) {
    this.leaseClock = leaseClock;
    this.clock = clock;
    this.cluster = cluster;
    this.store = store;
    this.config = config;
    this.lease = lease;
    this.ticker = ticker;
    this.backoffNanos = config.retryBackoffMin().toNanos();
    this.info = MemberInfo.ofThisProcess().withBalancing(config.capacity(), config.tags());
  }

  @Override
  public void run() {
    while (running) {
      long sleepNanos;
      try {
        MemberId member = lease.current();
        sleepNanos = member == null ? joinOnce() : renewOnce(member);
      } catch (RuntimeException | Error e) {
        log.error("lease thread of {}: unexpected error, retrying: {}", config.memberName(), e, e);
        sleepNanos = config.retryBackoffMax().toNanos();
      }
      if (running && sleepNanos > 0) {
        wakeup.await(sleepNanos);
      }
    }
  }

  /** The peer link's address, advertised at every join. */
  void advertise(String peerAddress) {
    info = info.withPeerAddress(java.util.Optional.of(peerAddress));
  }

  void stop() {
    running = false;
    wakeup.signal();
  }

  /** Asks for a rejoin now (after a fence). */
  void wake() {
    wakeup.signal();
  }

  private long joinOnce() {
    if (cluster.isClosing()) {
      running = false;
      return 0;
    }
    try {
      if (!initialized) {
        store.initialize();
        store.define(cluster.serviceSpecs());
        initialized = true;
      }
      cluster.awaitFencedStops();
      long sentNanos = ticker.nanos();
      long sentAt = leaseClock == ticker ? sentNanos : leaseClock.nanos(); // one reading
      MemberId member =
          store.join(
              config.memberName(), config.leaseTtl(), Optional.ofNullable(lease.previous()), info);
      lease.joined(member, sentAt);
      everJoined = true;
      writable();
      if (unreachableAttempts > 0) {
        log.info("database reachable again after {} failed attempts", unreachableAttempts);
      }
      unreachableAttempts = 0;
      nameConflictSinceNanos = 0;
      backoffNanos = config.retryBackoffMin().toNanos();
      cluster.onJoined(member, sentNanos);
      return config.renewInterval().toNanos();
    } catch (MemberNameInUseException e) {
      return onNameConflict(e);
    } catch (StoreReadOnlyException e) {
      long wait = nextBackoff();
      readOnly(e, "nothing is claimed until it is writable");
      long readOnlyFor = ticker.nanos() - readOnlySinceNanos;
      if (!everJoined && readOnlyFor > config.readOnlyStartupLimit().toNanos()) {
        // Read-only from the very first attempt on: most likely a replica's address, which no retry
        // fixes. Once joined, a read-only database is a failover in progress: retried for ever.
        cluster.fail(
            new StoreMisconfiguredException(
                e.database(),
                StoreMisconfiguredException.Problem.READ_ONLY,
                e.getMessage()
                    + "; still read-only "
                    + TimeUnit.NANOSECONDS.toMillis(readOnlyFor)
                    + " ms after the first attempt, past readOnlyStartupLimit ("
                    + config.readOnlyStartupLimit()
                    + ", --read-only-startup-limit)",
                e));
        running = false;
        return 0;
      }
      return wait;
    } catch (StoreUnavailableException e) {
      unreachableAttempts++;
      long wait = nextBackoff();
      if (unreachableAttempts == 1 || unreachableAttempts % 10 == 0) {
        log.warn(
            "{} cannot reach the database (attempt {}): {}; retrying in {} ms, nothing is claimed"
                + " until it answers",
            config.memberName(),
            unreachableAttempts,
            e.getMessage(),
            TimeUnit.NANOSECONDS.toMillis(wait));
      }
      return wait;
    } catch (ArbiterException e) {
      cluster.fail(e);
      running = false;
      return 0;
    }
  }

  /**
   * A crashed master's name stays held until its lease runs out, so a restart soon after a crash
   * waits that out. A conflict that outlasts two lease TTLs means a second live master really has
   * this name: fail.
   */
  private long onNameConflict(MemberNameInUseException e) {
    long now = ticker.nanos();
    if (nameConflictSinceNanos == 0) {
      nameConflictSinceNanos = now;
      log.warn("{}; waiting for it to run out (a restart after a crash)", e.getMessage());
    } else if (now - nameConflictSinceNanos > 2 * config.leaseTtl().toNanos()) {
      cluster.fail(e);
      running = false;
      return 0;
    }
    return Math.max(e.leaseLeft().toNanos(), config.retryBackoffMin().toNanos());
  }

  private long renewOnce(MemberId member) {
    long sentNanos = ticker.nanos();
    long sentAt = leaseClock == ticker ? sentNanos : leaseClock.nanos(); // one reading
    try {
      Heartbeat heartbeat = store.heartbeat(member, config.leaseTtl());
      // Before the lease records this renewal: the time since the previous one, on this clock.
      long localAgeNanos = lease.nanosSinceLastRenewalSent();
      if (databaseClockStepped(member, heartbeat, localAgeNanos) && heartbeat.renewed()) {
        return 0; // fenced: rejoin at once
      }
      if (!heartbeat.renewed()) {
        cluster.selfFence(member, "the database reports the lease of " + member + " expired");
        return 0; // rejoin at once
      }
      writable();
      MemberState before = lease.state();
      if (lease.renewed(member, sentAt)) {
        cluster.onRenewed(member, sentNanos);
        cluster.onHeartbeat(member, heartbeat, sentNanos);
        if (before == MemberState.SUSPECT) {
          log.info("{}: database answers again, lease renewed", member);
          cluster.wakeClaims();
        }
      }
      return Math.max(0, sentNanos + config.renewInterval().toNanos() - ticker.nanos());
    } catch (StoreUnavailableException e) {
      if (e instanceof StoreReadOnlyException readOnly) {
        readOnly(readOnly, "the lease cannot be renewed meanwhile");
      }
      if (lease.renewalFailed(member, "lease renewal failed: " + e.getMessage())) {
        log.warn(
            "{}: lease renewal failed ({}); {} ms of lease left before services stop",
            member,
            e.getMessage(),
            TimeUnit.NANOSECONDS.toMillis(lease.nanosLeft()));
      }
      // Retry sooner than the normal interval: every attempt that lands keeps the lease.
      return Math.min(config.renewInterval().toNanos(), config.retryBackoffMin().toNanos());
    }
  }

  /**
   * Compares the database's age of this member's previous renewal with the time this master
   * measured since it sent that renewal. The database stamped it after the send and measured its
   * age before this reply, so without a step its age is at most ours; a larger age means the
   * database's clock stepped forward (by about the difference), and every lease looked that much
   * older to it at once. Then (a) if, by the database's clock, this master's lease came within the
   * self-fence margin of running out, another master may have expired it: this master fences
   * itself; and (b) other members may be victims of the same step, so this master expires no one
   * for one lease. Returns true if it fenced this master. A store that does not measure the age
   * (-1) is not checked.
   */
  private boolean databaseClockStepped(MemberId member, Heartbeat heartbeat, long localAgeNanos) {
    long dbAgeMillis = heartbeat.ownRenewalAgeMillis();
    if (dbAgeMillis < 0) {
      return false;
    }
    long localAgeMillis = TimeUnit.NANOSECONDS.toMillis(localAgeNanos);
    long stepMillis = dbAgeMillis - localAgeMillis;
    if (stepMillis <= stepToleranceMillis()) {
      return false;
    }
    log.warn(
        "{}: the database clock stepped forward by about {} ms (it dates this master's previous"
            + " renewal {} ms ago, this master measured {} ms): expiring no other member for {} ms,"
            + " so that masters whose leases the step cut short can find out and stop first",
        member,
        stepMillis,
        dbAgeMillis,
        localAgeMillis,
        config.leaseTtl().toMillis());
    cluster.holdExpiryUntil(ticker.nanos() + config.leaseTtl().toNanos());
    if (heartbeat.renewed()
        && dbAgeMillis >= config.leaseTtl().minus(config.selfFenceMargin()).toMillis()) {
      cluster.selfFence(
          member,
          "the database clock stepped forward by about "
              + stepMillis
              + " ms: by its clock the lease of "
              + member
              + " came within the self-fence margin of running out");
      return true;
    }
    return false;
  }

  /** A difference smaller than this is clock-rate drift and timing, not a step. */
  private long stepToleranceMillis() {
    return Math.max(config.selfFenceMargin().toMillis(), MIN_STEP_TOLERANCE_MILLIS);
  }

  /**
   * Notes that the database refused a write as read-only (a failover under way, or a replica's
   * address): a WARN when it starts, and again every {@link #READ_ONLY_WARN_EVERY_NANOS}.
   */
  private void readOnly(StoreReadOnlyException e, String consequence) {
    long now = ticker.nanos();
    if (readOnlySince == null) {
      readOnlySince = clock.instant();
      readOnlySinceNanos = now;
    } else if (now - readOnlyWarnedNanos < READ_ONLY_WARN_EVERY_NANOS) {
      return;
    }
    readOnlyWarnedNanos = now;
    log.warn(
        "{}: the database is read-only since {} ({} ms): {}; retrying, {}",
        config.memberName(),
        readOnlySince,
        TimeUnit.NANOSECONDS.toMillis(now - readOnlySinceNanos),
        e.getMessage(),
        consequence);
  }

  /** A write went through: if the database was read-only, say that it is writable again. */
  private void writable() {
    if (readOnlySince != null) {
      log.info(
          "{}: the database is writable again, after {} ms read-only (since {})",
          config.memberName(),
          TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - readOnlySinceNanos),
          readOnlySince);
      readOnlySince = null;
    }
  }

  private long nextBackoff() {
    long wait = backoffNanos;
    backoffNanos = Math.min(backoffNanos * 2, config.retryBackoffMax().toNanos());
    return wait;
  }
}
