package io.arbiter;

/**
 * A write carried a fencing token that is no longer the current grant of its service: another
 * master owns the service now, or this master's lease has expired. The write was not applied.
 */
public final class FencingTokenRejectedException extends ArbiterException {
  private final FencingToken rejected;
  private final long currentToken;
  private final String currentOwner;

  public FencingTokenRejectedException(
      FencingToken rejected, long currentToken, String currentOwner) {
    super(
        "write for service '"
            + rejected.service()
            + "' rejected: it carries fencing token "
            + rejected.value()
            + " of "
            + rejected.holder()
            + ", but the current token is "
            + currentToken
            + (currentOwner == null ? " (no owner)" : " held by " + currentOwner)
            + " or the holder's lease has expired");
    this.rejected = rejected;
    this.currentToken = currentToken;
    this.currentOwner = currentOwner;
  }

  public FencingToken rejected() {
    return rejected;
  }

  public long currentToken() {
    return currentToken;
  }

  /** The current owner as {@code name#incarnation}, or null when nobody owns the service. */
  public String currentOwner() {
    return currentOwner;
  }
}
