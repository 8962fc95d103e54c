package io.arbiter;

/** What a running {@link ClusteredService} knows about its grant. */
public interface ServiceContext {
  String serviceName();

  /** The member incarnation this service runs on. */
  MemberId member();

  /** The fencing token of this grant; pass it along with every write the service makes. */
  FencingToken token();

  /**
   * True while this grant is current and the master's lease, measured on its own monotonic clock,
   * has not run out. A cheap local check (no database round trip); the database-side fence is what
   * makes writes safe.
   */
  boolean isActive();

  /**
   * Tells Arbiter that a write carrying this grant's token was rejected. Arbiter logs a warning
   * with both tokens and stops the service on this master.
   */
  void fencingRejected(FencingTokenRejectedException rejection);
}
