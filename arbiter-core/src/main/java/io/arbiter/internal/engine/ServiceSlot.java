package io.arbiter.internal.engine;

import io.arbiter.ClusteredService;
import io.arbiter.FencingToken;
import io.arbiter.balance.ServiceSpec;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One registered service on this master and the grant it holds here, if any, from the moment the
 * grant is won until its stop callback has returned.
 *
 * <p>A grant goes through {@link Phase#RESERVED} (won, start not begun), {@link Phase#STARTING}
 * (start callback running), {@link Phase#RUNNING} and {@link Phase#STOPPING}. The slot is {@link
 * #held() held} in every phase: a self-fence stops a service whose start is still running (it is
 * stopped as soon as the callback returns), and nothing claims or releases a service while a
 * callback of it runs. Start and stop callbacks are serialized per slot, so a stop that arrives
 * during a start runs right after it.
 */
final class ServiceSlot {
  private static final Logger log = LoggerFactory.getLogger(ServiceSlot.class);

  /** Where the grant held here is in its life. */
  enum Phase {
    RESERVED,
    STARTING,
    RUNNING,
    STOPPING
  }

  /** The grant held here and its phase; null when the slot holds nothing. */
  record Held(ServiceGrant grant, Phase phase) {}

  /** How a start ended. */
  enum StartResult {
    /** The start callback returned and the grant is still active: the service runs here. */
    STARTED,
    /** The start callback threw: the grant must be released as a failed start. */
    FAILED,
    /**
     * Not started, or started and stopped at once: the grant ended (the lease ran out, a
     * self-fence, a rejected write) before or while the callback ran. Nothing to release for a
     * failed start.
     */
    ABANDONED
  }

  private final String name;
  private final ServiceSpec spec;
  private final ClusteredService service;
  // Read without the lock: a slow start or stop callback holds the lock, and the assignment thread
  // must not wait on it to see what this slot holds.
  private final AtomicReference<Held> held = new AtomicReference<>();
  private volatile FencingToken lastFailedStart;
  private volatile long notBeforeNanos;

  ServiceSlot(ServiceSpec spec, ClusteredService service) {
    this.name = spec.name();
    this.spec = spec;
    this.service = service;
  }

  String name() {
    return name;
  }

  ServiceSpec spec() {
    return spec;
  }

  /** True for a service that runs on every matching master, without a claim. */
  boolean isLocal() {
    return spec.placement().local();
  }

  /**
   * Takes {@code grant} for this slot before its start is scheduled, so that from the moment a
   * grant is won, the slot shows it (a self-fence then stops it, a later round does not claim or
   * release it). Returns false if the slot already holds a grant.
   */
  boolean reserve(ServiceGrant grant) {
    return held.compareAndSet(null, new Held(grant, Phase.RESERVED));
  }

  /** Gives up a reserved grant whose start will never run (the callback pool was shut down). */
  void unreserve(ServiceGrant grant) {
    Held h = held.get();
    if (h != null && h.grant() == grant && h.phase() == Phase.RESERVED) {
      held.compareAndSet(h, null);
    }
  }

  /**
   * Runs the start callback under {@code grant} (reserving it first if the caller did not), if the
   * grant is still active, and checks it again when the callback returns: a grant that ended while
   * the callback ran (its lease ran out, the master fenced itself) is stopped at once, since no one
   * else would stop it.
   */
  synchronized StartResult start(ServiceGrant grant) {
    Held h = held.get();
    if (h == null || h.grant() != grant) {
      if (!reserve(grant)) {
        log.warn("service {} is already held under {}; ignoring grant {}", name, held.get(), grant);
        return StartResult.ABANDONED;
      }
    }
    if (!grant.isActive()) {
      log.info("service {}: its grant ended before start; not starting token {}", name, grant);
      held.set(null);
      return StartResult.ABANDONED;
    }
    held.set(new Held(grant, Phase.STARTING));
    try {
      service.start(grant);
    } catch (Exception | LinkageError e) {
      log.error("service {} failed to start with token {}: {}", name, grant.token().value(), e, e);
      grant.end();
      stopQuietly(grant);
      lastFailedStart = grant.token();
      held.set(null);
      return StartResult.FAILED;
    }
    if (!grant.isActive()) {
      log.warn(
          "service {}: its grant (token {}) ended while the start callback ran (lease lost or"
              + " self-fenced); stopping it now",
          name,
          grant.token().value());
      grant.end();
      stopQuietly(grant);
      held.set(null);
      return StartResult.ABANDONED;
    }
    held.set(new Held(grant, Phase.RUNNING));
    log.info("service {} started with fencing token {}", name, grant.token().value());
    return StartResult.STARTED;
  }

  /**
   * Stops the service if it runs under {@code grant} (or under any grant when null). A grant whose
   * start has not run yet is ended, and its start does nothing. Returns the grant stopped here, or
   * null if none was running.
   */
  synchronized ServiceGrant stop(ServiceGrant grant, String reason) {
    Held h = held.get();
    if (h == null || (grant != null && h.grant() != grant)) {
      return null;
    }
    ServiceGrant stopping = h.grant();
    stopping.end();
    if (h.phase() != Phase.RUNNING) {
      // RESERVED: its start, which waits on this lock, sees the grant ended and does not start.
      return null;
    }
    held.set(new Held(stopping, Phase.STOPPING));
    stopQuietly(stopping);
    held.set(null);
    log.info("service {} stopped (token {}): {}", name, stopping.token().value(), reason);
    return stopping;
  }

  private void stopQuietly(ServiceGrant grant) {
    try {
      service.stop(grant);
    } catch (Exception | LinkageError e) {
      log.warn(
          "service {}: stop callback failed for token {}: {}", name, grant.token().value(), e, e);
    }
  }

  /** The grant the service runs under here: started, and its stop not begun. */
  ServiceGrant running() {
    Held h = held.get();
    return h != null && h.phase() == Phase.RUNNING ? h.grant() : null;
  }

  /** What this slot holds, in any phase (null if nothing). */
  Held held() {
    return held.get();
  }

  /** The token of the last start that failed here (its grant is released as a failed start). */
  FencingToken lastFailedStart() {
    return lastFailedStart;
  }

  boolean inBackoff(long nowNanos) {
    return nowNanos - notBeforeNanos < 0;
  }

  long notBefore() {
    return notBeforeNanos;
  }

  void backOffUntil(long nanos) {
    notBeforeNanos = nanos;
  }
}
