package io.arbiter;

/**
 * What a master believes about its own membership, and what that means for its services (the
 * reaction is fixed policy, in the spirit of Curator's connection states).
 */
public enum MemberState {
  /** Not joined yet: connecting, creating or checking the schema. Nothing is claimed. */
  STARTING,
  /** Joined and renewing. Services run. */
  ACTIVE,
  /**
   * A renewal failed but the lease has not run out on this master's monotonic clock. Services keep
   * running; no new claims are made.
   */
  SUSPECT,
  /**
   * The lease ran out (locally, or the database judged it expired). Every service has been told to
   * stop; the master keeps trying to rejoin with a new incarnation.
   */
  FENCED,
  /** Closed cleanly: services stopped and claims released. */
  STOPPED,
  /**
   * Cannot go on without an operator: bad schema, wrong credentials, name held by a live master.
   */
  FAILED
}
