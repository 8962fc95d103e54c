package io.arbiter;

/**
 * A move ({@link ClusterAdmin#move}) would break a rule: the target is draining, the service is
 * local, its placement rules forbid the target, or a service of its anti-affinity group runs there.
 * Nothing was written.
 */
public final class MoveRefusedException extends ArbiterException {
  /** Which rule refused the move. */
  public enum Rule {
    /** The target master is draining. */
    TARGET_DRAINING,
    /** The service is local: it runs on every matching master, so it cannot be moved. */
    LOCAL_SERVICE,
    /** The service's required tag or pin excludes the target. */
    PLACEMENT,
    /** A service of the same anti-affinity group runs on the target. */
    ANTI_AFFINITY
  }

  private final String service;
  private final String member;
  private final Rule rule;

  public MoveRefusedException(String service, String member, Rule rule, String reason) {
    super("cannot move " + service + " to " + member + ": " + reason);
    this.service = service;
    this.member = member;
    this.rule = rule;
  }

  public String service() {
    return service;
  }

  /** The master the service was to move to. */
  public String member() {
    return member;
  }

  public Rule rule() {
    return rule;
  }
}
