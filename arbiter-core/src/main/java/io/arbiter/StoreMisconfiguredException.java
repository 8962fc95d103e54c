package io.arbiter;

/**
 * The database answered, but this store cannot work with it as configured: wrong credentials, a
 * database that does not exist, missing privileges, or a database that stayed read-only past {@link
 * ClusterConfig#readOnlyStartupLimit()} while a master first started (a read-only database is
 * otherwise transient: {@link StoreReadOnlyException}). The permanent counterpart of {@link
 * StoreUnavailableException}: retrying does not help, an operator must fix the configuration. The
 * message names the database (never a password) and the fix.
 */
public final class StoreMisconfiguredException extends ArbiterException {
  /** What is wrong. */
  public enum Problem {
    /** The user name or password was refused. */
    CREDENTIALS,
    /** The database named in the URL does not exist. */
    MISSING_DATABASE,
    /**
     * The database accepted no writes from a master's first attempt until its {@link
     * ClusterConfig#readOnlyStartupLimit()} (most likely a replica in the URL).
     */
    READ_ONLY,
    /** Anything else the database refuses for good (privileges, an unsupported server). */
    OTHER
  }

  private final String database;
  private final Problem problem;

  public StoreMisconfiguredException(
      String database, Problem problem, String message, Throwable cause) {
    super(message, cause);
    this.database = database;
    this.problem = problem;
  }

  /** The database, as its URL without credentials or query string. */
  public String database() {
    return database;
  }

  public Problem problem() {
    return problem;
  }
}
