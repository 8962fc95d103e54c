package io.arbiter.examples.cli;

import io.arbiter.InvalidConfigException;
import io.arbiter.jdbc.ArbiterDataSources;
import picocli.CommandLine.Option;

/** The database options every `arbiter` command shares (and the build-farm master). */
public final class DbOptions {
  public static final String EMBEDDED = "embedded";

  @Option(
      names = "--db",
      defaultValue = EMBEDDED,
      description =
          "'embedded' (a PostgreSQL started for you) or a JDBC URL: jdbc:postgresql://host:5432/db,"
              + " jdbc:mariadb://host:3306/db. Default: ${DEFAULT-VALUE}.")
  String db = EMBEDDED;

  @Option(names = "--db-user", description = "Database user, if not in the URL.")
  String user;

  @Option(names = "--db-password", description = "Database password, if not in the URL.")
  String password;

  @Option(
      names = "--create-schema",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Create the Arbiter tables if they are missing (default: ${DEFAULT-VALUE}).")
  boolean createSchema = true;

  @Option(
      names = "--data-dir",
      description = "With --db embedded: keep the database here instead of a temporary directory.")
  java.nio.file.Path dataDir;

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  public java.nio.file.Path dataDir() {
    return dataDir;
  }

  public boolean createSchema() {
    return createSchema;
  }

  /** The credential options to hand on to a child `arbiter master`. */
  public java.util.List<String> credentialArgs() {
    java.util.List<String> args = new java.util.ArrayList<>();
    if (user != null) {
      args.addAll(java.util.List.of("--db-user", user));
    }
    if (password != null) {
      args.addAll(java.util.List.of("--db-password", password));
    }
    return args;
  }

  public boolean embedded() {
    return EMBEDDED.equals(db);
  }

  /** The JDBC URL; rejects 'embedded' for commands that need a running server. */
  public String url(String command) {
    if (embedded()) {
      throw new InvalidConfigException(
          "--db",
          db,
          "'" + command + "' needs the JDBC URL of a running database (the demo prints it)");
    }
    try {
      return ArbiterDataSources.validateUrl(db);
    } catch (InvalidConfigException e) {
      throw e.renamed("--db", db);
    }
  }
}
