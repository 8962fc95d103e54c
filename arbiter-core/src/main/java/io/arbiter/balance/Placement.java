package io.arbiter.balance;

import java.util.Optional;

/**
 * Where a service may run.
 *
 * @param requiredTag only on masters with this tag
 * @param pinnedTo only on this master
 * @param antiAffinityGroup never on the same master as another service of this group
 * @param local on every matching master at once (e.g. a force scheduler on each web master), rather
 *     than on exactly one
 */
public record Placement(
    Optional<String> requiredTag,
    Optional<String> pinnedTo,
    Optional<String> antiAffinityGroup,
    boolean local) {

  public static final Placement ANYWHERE =
      new Placement(Optional.empty(), Optional.empty(), Optional.empty(), false);

  public Placement requireTag(String tag) {
    return new Placement(Optional.of(tag), pinnedTo, antiAffinityGroup, local);
  }

  public Placement pinTo(String member) {
    return new Placement(requiredTag, Optional.of(member), antiAffinityGroup, local);
  }

  public Placement antiAffinity(String group) {
    return new Placement(requiredTag, pinnedTo, Optional.of(group), local);
  }

  public Placement onEveryMatchingMaster() {
    return new Placement(requiredTag, pinnedTo, antiAffinityGroup, true);
  }

  /** True if {@code m} may run a service with this placement (draining aside). */
  public boolean allows(MemberSpec m) {
    return requiredTag.map(m.tags()::contains).orElse(true)
        && pinnedTo.map(m.name()::equals).orElse(true);
  }
}
