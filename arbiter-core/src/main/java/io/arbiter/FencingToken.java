package io.arbiter;

/**
 * The grant of one service to one member incarnation. {@link #value()} strictly increases with
 * every grant of the service and is never reused, so a write that carries a token lower than the
 * current one comes from a master that has lost the service.
 */
public record FencingToken(String service, long value, MemberId holder) {
  @Override
  public String toString() {
    return service + "@" + value + " (" + holder + ")";
  }
}
