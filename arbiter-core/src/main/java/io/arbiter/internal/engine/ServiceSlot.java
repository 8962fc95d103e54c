package io.arbiter.internal.engine;

import io.arbiter.ClusteredService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One registered service on this master and its current grant, if it runs here. Start and stop are
 * serialized per slot, so a stop that arrives while a start is in progress runs right after it.
 */
final class ServiceSlot {
  private static final Logger log = LoggerFactory.getLogger(ServiceSlot.class);

  private final String name;
  private final io.arbiter.balance.ServiceSpec spec;
  private final ClusteredService service;
  // Volatile, and read without the lock: a slow start or stop callback holds the lock, and the
  // assignment thread must not wait on it to see what runs.
  private volatile ServiceGrant running;
  private volatile long notBeforeNanos;

  ServiceSlot(io.arbiter.balance.ServiceSpec spec, ClusteredService service) {
    this.name = spec.name();
    this.spec = spec;
    this.service = service;
  }

  String name() {
    return name;
  }

  io.arbiter.balance.ServiceSpec spec() {
    return spec;
  }

  /** True for a service that runs on every matching master, without a claim. */
  boolean isLocal() {
    return spec.placement().local();
  }

  /**
   * Starts the service under {@code grant} if the grant is still active.
   *
   * @return true if the service now runs; false if the lease ran out first or start failed (the
   *     caller releases the grant)
   */
  synchronized boolean start(ServiceGrant grant) {
    if (running != null) {
      log.warn("service {} is already running under {}; ignoring grant {}", name, running, grant);
      return false;
    }
    if (!grant.isActive()) {
      log.info("service {}: lease ran out before start; not starting token {}", name, grant);
      return false;
    }
    try {
      service.start(grant);
      running = grant;
      log.info("service {} started with fencing token {}", name, grant.token().value());
      return true;
    } catch (Exception | LinkageError e) {
      log.error("service {} failed to start with token {}: {}", name, grant.token().value(), e, e);
      grant.end();
      stopQuietly(grant);
      return false;
    }
  }

  /** Stops the service if it runs under {@code grant} (or under any grant when null). */
  synchronized ServiceGrant stop(ServiceGrant grant, String reason) {
    if (running == null || (grant != null && running != grant)) {
      return null;
    }
    ServiceGrant stopping = running;
    running = null;
    stopping.end();
    stopQuietly(stopping);
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

  ServiceGrant running() {
    return running;
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
