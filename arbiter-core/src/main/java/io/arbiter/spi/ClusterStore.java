package io.arbiter.spi;

import io.arbiter.ClusterStatus;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.StoreUnavailableException;
import io.arbiter.balance.ServiceSpec;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * What the engine needs from the shared database: the whole storage SPI. A backend implements it
 * once (see arbiter-jdbc); the contract test in arbiter-testkit says what every method must
 * guarantee.
 *
 * <p>The invariants every backend keeps:
 *
 * <ul>
 *   <li>Lease expiry is judged by the store's own clock, never by the caller's.
 *   <li>A member incarnation, once expired or stopped, never becomes live again; a rejoin gets a
 *       higher incarnation.
 *   <li>A service is claimable only on positive evidence: it has no owner, or its owner's
 *       incarnation is known to be dead. So a stale read can only delay a claim, never duplicate
 *       it.
 *   <li>Every grant increments the service's token; tokens are never reused, across restarts of
 *       every master.
 * </ul>
 *
 * <p>Every method may throw {@link StoreUnavailableException} when the database does not answer;
 * other {@link io.arbiter.ArbiterException}s are not transient (bad schema, bad credentials).
 */
public interface ClusterStore extends AutoCloseable {

  /** Checks (and, when allowed, creates or upgrades) the schema. Safe to call more than once. */
  void initialize();

  /**
   * Joins as a new incarnation of {@code name} with a lease of {@code ttl} from the store's clock.
   *
   * @param previous the incarnation this process held before, if any: it may be superseded even if
   *     its lease has not run out yet (this process knows it has stopped acting on it)
   * @throws MemberNameInUseException if another live incarnation holds the name
   */
  MemberId join(String name, Duration ttl, Optional<MemberId> previous, MemberInfo info);

  /**
   * Extends the lease of {@code member} to {@code ttl} from now by the store's clock, in one
   * statement that renews every claim the member holds, and reports the change epoch and the live
   * leases (see {@link Heartbeat}). This is the only statement a master runs at rest.
   */
  Heartbeat heartbeat(MemberId member, Duration ttl);

  /**
   * {@link #heartbeat} without the report.
   *
   * @return false if the member's lease had already expired or it was superseded: it must not act
   *     and must rejoin
   */
  default boolean renew(MemberId member, Duration ttl) {
    return heartbeat(member, ttl).renewed();
  }

  /**
   * Leaves cleanly: releases every claim of {@code member} and marks it stopped in one transaction,
   * then wakes the other masters.
   */
  void leave(MemberId member);

  /** Makes sure a row exists for each service, with weight 1 and no rules (idempotent). */
  default void register(Collection<String> services) {
    define(services.stream().map(ServiceSpec::of).toList());
  }

  /**
   * Makes sure a row exists for each service and that its weight and placement rules are the given
   * ones (idempotent). Bumps the change epoch if anything changed, so every master rebalances.
   */
  void define(Collection<ServiceSpec> services);

  /**
   * Reads the members, services, rules and grants for the balancer, in one transaction. Costs one
   * row per service: call it when the change epoch moves, not on a timer.
   */
  ClusterFacts facts();

  /**
   * Like {@link #facts()}, but with only the services whose row changed after {@code sinceEpoch}
   * (every member still). A master that merges these into what it read before has the same facts as
   * a full read, at a cost that follows the changes, not the number of services.
   */
  default ClusterFacts factsSince(long sinceEpoch) {
    return facts();
  }

  /**
   * Releases the given grants that are still current, in one transaction, and wakes the other
   * masters once. Used to hand services over to the master the balancer chose.
   *
   * @return how many were released
   */
  int release(Collection<FencingToken> tokens);

  /**
   * Marks {@code member} as draining (it is given nothing) or not.
   *
   * @return false if no member has that name
   */
  boolean setDraining(String member, boolean draining);

  /**
   * Asks for {@code service} to run on {@code member} while that member is live and allowed by the
   * service's rules; empty goes back to the balancer's choice.
   *
   * @return false if no service has that name
   */
  boolean setMoveTarget(String service, Optional<String> member);

  /** Marks every member whose lease has run out by the store's clock as expired. */
  int expireOverdueMembers();

  /** Names of services that are unowned or whose owner is known to be dead. */
  Collection<String> claimableServices();

  /**
   * Claims, in one transaction, every service in {@code services} that is claimable, for {@code
   * member} (whose lease must be live). Atomic per service: under any race at most one caller wins
   * it, and the winner gets a token higher than any before. {@code services} must not hold services
   * this incarnation already owns.
   *
   * @return the grants won, possibly none
   */
  List<FencingToken> claim(MemberId member, Collection<String> services);

  /** Releases one grant if it is still current (fenced by its token). */
  boolean release(FencingToken token);

  /**
   * Releases a grant whose service failed to start, and records the holder's incarnation so that
   * the balancer gives the service to another master while that incarnation lives.
   */
  boolean releaseFailedStart(FencingToken token);

  /** The current grant of a service, if any (used to name the successor in warnings). */
  Optional<FencingToken> currentGrant(String service);

  /**
   * Records how {@code member} sees its peers on the peer link (shown by `arbiter status`). Called
   * only when that view changes.
   */
  default void publishPeerView(MemberId member, String view) {}

  /**
   * True if {@link #subscribe} pushes changes (PostgreSQL LISTEN/NOTIFY) rather than polling. A
   * master whose peer link carries wake-ups needs no poll: the heartbeat reads the change epoch.
   */
  default boolean pushesChanges() {
    return false;
  }

  /** Members, leases, services, owners and tokens, for `arbiter status`. */
  ClusterStatus status();

  /**
   * Calls {@code onChange} soon after another master changes the cluster (a clean stop, a release).
   * A hint only: the engine also polls. Returns a handle that stops the subscription.
   */
  AutoCloseable subscribe(Runnable onChange, Duration pollInterval);

  /** Hears the event log's head from a store's change poll. */
  @FunctionalInterface
  interface EventHeadListener {
    /**
     * The log's head was {@code headSeq} when read by a statement sent at {@code sentNanos} (on
     * {@link System#nanoTime()}).
     */
    void onEventHead(long headSeq, long sentNanos);
  }

  /**
   * True if a subscription that polls (see {@link #pushesChanges()}) also reads the cluster event
   * log's head in the same statement and reports it to {@link #subscribe(Runnable,
   * EventHeadListener, Duration)}; then the event log needs no poll of its own.
   */
  default boolean pollReportsEventHead() {
    return false;
  }

  /**
   * As {@link #subscribe(Runnable, Duration)}, and, where {@link #pollReportsEventHead()}, calls
   * {@code onEventHead} after every poll.
   */
  default AutoCloseable subscribe(
      Runnable onChange, EventHeadListener onEventHead, Duration pollInterval) {
    return subscribe(onChange, pollInterval);
  }

  @Override
  void close();
}
