package io.arbiter.chaos;

import io.arbiter.ClusteredService;
import io.arbiter.ServiceContext;

/**
 * A workload service whose start and stop callbacks are made slow or failing by {@link
 * CallbackFaults}, and recorded in the master's history: {@code starting}, then {@code started} or
 * {@code start_failed}; {@code stopping}, then {@code stopped}. A slow start waits before starting
 * the work; a slow stop waits before stopping it (the work goes on meanwhile, as it does while a
 * real service drains); a failing stop stops the work and then throws, as a cleanup that fails.
 */
final class ChaosCallbacks implements ClusteredService {
  private final ClusteredService service;
  private final CallbackFaults faults;
  private final MasterHistoryWriter history;

  ChaosCallbacks(ClusteredService service, CallbackFaults faults, MasterHistoryWriter history) {
    this.service = service;
    this.faults = faults;
    this.history = history;
  }

  @Override
  public void start(ServiceContext context) throws Exception {
    CallbackFaults.Draw draw = faults.draw();
    history.callback("starting", context.token(), draw.delayMillis() + " ms");
    try {
      Thread.sleep(draw.delayMillis());
      if (draw.fail()) {
        throw new IllegalStateException(
            "injected start failure of " + context.serviceName() + " (chaos run)");
      }
      service.start(context);
    } catch (Exception | Error e) {
      history.callback("start_failed", context.token(), e.toString());
      throw e;
    }
    history.callback("started", context.token(), null);
  }

  @Override
  public void stop(ServiceContext context) throws Exception {
    CallbackFaults.Draw draw = faults.draw();
    history.callback("stopping", context.token(), draw.delayMillis() + " ms");
    try {
      Thread.sleep(draw.delayMillis());
    } finally {
      service.stop(context);
      history.callback("stopped", context.token(), draw.fail() ? "then failed" : null);
    }
    if (draw.fail()) {
      throw new IllegalStateException(
          "injected stop failure of " + context.serviceName() + " (chaos run)");
    }
  }
}
