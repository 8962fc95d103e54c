package io.arbiter;

/**
 * The database answered but accepts no writes: a hot standby, or a primary that a failover has just
 * demoted. Transient, like {@link StoreUnavailableException}: during a failover the address soon
 * leads to the new primary again. A master retries with backoff, stops its services when its lease
 * can no longer be renewed, and rejoins once the database is writable. Only a master that has never
 * joined gives up, after {@link ClusterConfig#readOnlyStartupLimit()}: then it was most likely
 * pointed at a replica.
 */
public class StoreReadOnlyException extends StoreUnavailableException {
  private final String database;

  public StoreReadOnlyException(String database, String message, Throwable cause) {
    super(message, cause);
    this.database = database;
  }

  /** The database, as its URL without credentials or query string. */
  public String database() {
    return database;
  }
}
