package io.arbiter;

import java.util.List;

/** No master of that name is known to the cluster (or none is live, where a live one is needed). */
public final class UnknownMemberException extends ArbiterException {
  private final String member;
  private final List<String> known;

  public UnknownMemberException(String member, List<String> known, String message) {
    super(message);
    this.member = member;
    this.known = List.copyOf(known);
  }

  /** The name asked for. */
  public String member() {
    return member;
  }

  /** The names that were known when the request was refused (may be empty when not read). */
  public List<String> known() {
    return known;
  }
}
