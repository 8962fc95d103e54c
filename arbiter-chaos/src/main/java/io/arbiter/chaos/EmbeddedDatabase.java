package io.arbiter.chaos;

import io.arbiter.testkit.EmbeddedPostgresProcess;
import io.arbiter.testkit.EmbeddedPostgresServer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The run's own embedded PostgreSQL, in a child process (so that it goes away with the run however
 * the run ends), which the run can restart under load. Its data directory is deleted at the end.
 */
final class EmbeddedDatabase implements ChaosDatabase {
  private final EmbeddedPostgresProcess process;
  private final Path dataDir;

  private EmbeddedDatabase(EmbeddedPostgresProcess process, Path dataDir) {
    this.process = process;
    this.dataDir = dataDir;
  }

  static EmbeddedDatabase start(Path dataDir, Path log) throws IOException {
    return new EmbeddedDatabase(EmbeddedPostgresProcess.start(dataDir, log), dataDir);
  }

  @Override
  public String jdbcUrl() {
    return process.jdbcUrl();
  }

  @Override
  public String label() {
    return "embedded PostgreSQL";
  }

  @Override
  public boolean restartable() {
    return true;
  }

  @Override
  public void stop() throws IOException {
    process.stop();
  }

  @Override
  public void start() throws IOException {
    process.start();
  }

  @Override
  public void close() throws IOException {
    try {
      process.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    EmbeddedPostgresServer.deleteTree(dataDir);
  }
}
