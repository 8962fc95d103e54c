package io.arbiter.examples.buildfarm;

import io.arbiter.ClusteredService;
import io.arbiter.ServiceContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's local service: a force scheduler, which in Buildbot must run on every web master (it
 * answers the "force build" button). It runs on every master with the required tag at once, holds
 * no claim and writes nothing fenced; it only says where it runs.
 */
public final class ForceScheduler implements ClusteredService {
  private static final Logger log = LoggerFactory.getLogger(ForceScheduler.class);

  @Override
  public void start(ServiceContext context) {
    log.info("{}: accepting force-build requests on {}", context.serviceName(), context.member());
  }

  @Override
  public void stop(ServiceContext context) {
    log.info(
        "{}: no longer accepting force-build requests on {}",
        context.serviceName(),
        context.member());
  }
}
