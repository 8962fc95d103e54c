package io.arbiter;

/**
 * The database holds Arbiter's tables at a version this code cannot use: older, and this store may
 * not upgrade them (schema creation is off), or newer, written by a later Arbiter. Permanent: an
 * operator must upgrade the schema or this master. See docs/upgrading.md.
 */
public final class SchemaVersionException extends ArbiterException {
  private final String database;
  private final int found;
  private final int supported;

  public SchemaVersionException(String database, int found, int supported, String message) {
    super(message);
    this.database = database;
    this.found = found;
    this.supported = supported;
  }

  /** The database, as its URL without credentials or query string. */
  public String database() {
    return database;
  }

  /** The schema version found in the database. */
  public int found() {
    return found;
  }

  /** The newest schema version this code knows. */
  public int supported() {
    return supported;
  }

  /** True when the database is newer than this code: upgrade this master, not the schema. */
  public boolean isNewer() {
    return found > supported;
  }
}
