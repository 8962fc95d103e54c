package io.arbiter;

/**
 * The database did not answer (refused, timed out, connection dropped). Transient: Arbiter retries,
 * and a master that cannot renew its lease stops its services before the lease can run out.
 */
public final class StoreUnavailableException extends ArbiterException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
