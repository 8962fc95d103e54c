package io.arbiter.balance;

import java.util.Set;

/**
 * A live master as the balancer sees it.
 *
 * @param capacity its share of the load relative to the others (default 1; 0 takes nothing)
 * @param tags what it offers (e.g. "web", "builder"), matched by {@link Placement#requiredTag()}
 * @param draining true while an operator empties it: it is given nothing
 */
public record MemberSpec(String name, double capacity, Set<String> tags, boolean draining) {
  public MemberSpec {
    if (!(capacity >= 0) || Double.isInfinite(capacity)) {
      throw new IllegalArgumentException("capacity of " + name + " must be a finite number >= 0");
    }
    tags = Set.copyOf(tags);
  }

  public static MemberSpec of(String name) {
    return new MemberSpec(name, 1, Set.of(), false);
  }
}
