package io.arbiter;

/**
 * Hears a member's lease events and state changes, for metrics, audit logs, a dashboard and the
 * chaos checker's history. Called on Arbiter's own threads: return quickly and do not throw.
 */
public interface ClusterListener {
  /**
   * Joined as {@code member}; the join was sent at {@code sentNanos} on the monotonic clock ({@link
   * io.arbiter.time.Ticker}).
   */
  default void joined(MemberId member, long sentNanos) {}

  /** A renewal sent at {@code sentNanos} succeeded: the lease holds until TTL after that. */
  default void renewed(MemberId member, long sentNanos) {}

  /** {@code member} gave up its lease and told its services to stop. */
  default void fenced(MemberId member, String reason) {}

  /**
   * This master's state changed (joining, active, suspect, fenced and rejoining, failed, stopped):
   * see {@link MemberStateChange}. Called after the change, in the order the changes happened.
   */
  default void stateChanged(MemberStateChange change) {}
}
