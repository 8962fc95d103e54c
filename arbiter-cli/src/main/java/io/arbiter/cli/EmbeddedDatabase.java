package io.arbiter.cli;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A PostgreSQL server started in-process from the binaries packaged on Maven Central, so that the
 * demo and the benchmarks need no server to install. Data lives in a temporary directory unless one
 * is given.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private final EmbeddedPostgres postgres;
  private final Path dataDir;
  private final boolean temporary;

  private EmbeddedDatabase(EmbeddedPostgres postgres, Path dataDir, boolean temporary) {
    this.postgres = postgres;
    this.dataDir = dataDir;
    this.temporary = temporary;
  }

  public static EmbeddedDatabase start(Path dataDir) throws IOException {
    boolean temporary = dataDir == null;
    Path dir = temporary ? Files.createTempDirectory("arbiter-pg-") : dataDir;
    Files.createDirectories(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(temporary)
            .setServerConfig("max_connections", "300")
            .start();
    return new EmbeddedDatabase(pg, dir, temporary);
  }

  public String jdbcUrl() {
    return postgres.getJdbcUrl("postgres", "postgres").replace("localhost", "127.0.0.1");
  }

  public Path dataDir() {
    return dataDir;
  }

  public boolean temporary() {
    return temporary;
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
