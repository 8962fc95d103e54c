package io.arbiter;

import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.MemberScan;
import io.arbiter.time.Ticker;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim thread: looks for services it can run and claims them, first come first served. It
 * wakes on a push from another master (a clean stop), at the moment the next live lease is due to
 * run out (so crash failover follows expiry within milliseconds), and at least every {@code
 * claimPollInterval} as a safety net.
 */
final class ClaimLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ClaimLoop.class);

  /** Slack after a lease's due time, so the database's clock has passed it when we look. */
  private static final long EXPIRY_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /** How long a service that failed to start is left for other masters before we try it again. */
  private static final long START_FAILURE_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final Cluster cluster;
  private final ClusterStore store;
  private final ClusterConfig config;
  private final MemberLease lease;
  private final Map<String, ServiceSlot> slots;
  private final Ticker ticker;
  private final Wakeup wakeup = new Wakeup();
  private volatile boolean running = true;

  ClaimLoop(
      Cluster cluster,
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
  }

  @Override
  public void run() {
    while (running) {
      long sleepNanos;
      try {
        sleepNanos = round();
      } catch (StoreUnavailableException e) {
        log.debug("claim round failed: {}", e.getMessage());
        sleepNanos = config.retryBackoffMin().toNanos();
      } catch (RuntimeException | Error e) {
        // Log and go on: a dead claim thread would leave a live member that never claims.
        log.error("claim round failed unexpectedly: {}", e, e);
        sleepNanos = config.claimPollInterval().toNanos();
      }
      if (running) {
        wakeup.await(sleepNanos);
      }
    }
  }

  void wake() {
    wakeup.signal();
  }

  void stop() {
    running = false;
    wakeup.signal();
  }

  /** One look-and-claim; returns how long to sleep before the next. */
  private long round() {
    long pollNanos = config.claimPollInterval().toNanos();
    MemberId me = lease.current();
    if (me == null || lease.state() != MemberState.ACTIVE || !lease.isValid(me)) {
      return pollNanos; // the lease thread wakes us once we hold a lease again
    }
    MemberScan scan = store.scanMembers(me);
    if (scan.overdue() > 0) {
      int expired = store.expireOverdueMembers();
      if (expired > 0) {
        log.info(
            "{}: marked {} member(s) expired (their lease ran out by the database clock)",
            me,
            expired);
      }
    }
    claimWhatWeCan(me, store.claimableServices());
    long next = pollNanos;
    if (scan.nextExpiry().isPresent()) {
      next = Math.min(next, Math.max(0, scan.nextExpiry().get().toNanos()) + EXPIRY_SLACK_NANOS);
    }
    return next;
  }

  private void claimWhatWeCan(MemberId me, Collection<String> claimable) {
    long now = ticker.nanos();
    List<String> candidates =
        claimable.stream()
            .map(slots::get)
            .filter(slot -> slot != null && slot.running() == null && !slot.inBackoff(now))
            .map(ServiceSlot::name)
            .toList();
    if (candidates.isEmpty() || !running || !lease.isValid(me)) {
      return;
    }
    List<FencingToken> won = store.claim(me, candidates);
    if (won.isEmpty()) {
      return;
    }
    log.info(
        "{}: acquired {} service(s): {}",
        me,
        won.size(),
        won.stream().map(t -> t.service() + "@" + t.value()).toList());
    for (ServiceSlot failed : cluster.startServices(won)) {
      failed.backOffUntil(ticker.nanos() + START_FAILURE_BACKOFF_NANOS);
    }
  }
}
