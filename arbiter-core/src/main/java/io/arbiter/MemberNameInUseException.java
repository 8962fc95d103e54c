package io.arbiter;

import java.time.Duration;

/** A live master already holds this name. Names are unique among live members. */
public final class MemberNameInUseException extends ArbiterException {
  private final String name;
  private final long incarnation;
  private final Duration leaseLeft;

  public MemberNameInUseException(String name, long incarnation, Duration leaseLeft) {
    super(
        "member name '"
            + name
            + "' is held by a live master (incarnation "
            + incarnation
            + ", lease left "
            + leaseLeft.toMillis()
            + " ms): give this master another name with --name, or stop the other one");
    this.name = name;
    this.incarnation = incarnation;
    this.leaseLeft = leaseLeft;
  }

  public String name() {
    return name;
  }

  public long incarnation() {
    return incarnation;
  }

  public Duration leaseLeft() {
    return leaseLeft;
  }
}
