package io.arbiter;

/**
 * A service that must run on exactly one live master at a time: a poller, a scheduler, a change
 * source. Arbiter calls {@link #start} on the master that won the grant and {@link #stop} when the
 * grant ends (clean stop, lease lost, or handoff).
 *
 * <p>Both callbacks should return promptly: start background work on your own threads. After {@code
 * stop} returns, the service must no longer act. A service that writes to shared state should fence
 * those writes with {@link ServiceContext#token()} (see {@code JdbcFence} in arbiter-jdbc), so that
 * a master that comes back from a freeze cannot overwrite its successor.
 */
public interface ClusteredService {
  void start(ServiceContext context) throws Exception;

  void stop(ServiceContext context) throws Exception;
}
