package io.arbiter;

/**
 * The database did not answer (refused, timed out, connection dropped). Transient: Arbiter retries,
 * and a master that cannot renew its lease stops its services before the lease can run out. {@link
 * StoreReadOnlyException} is the case of a database that answers but accepts no writes.
 */
public class StoreUnavailableException extends ArbiterException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
