package io.arbiter.bench;

import io.arbiter.testkit.EmbeddedPostgresProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The embedded PostgreSQL of a benchmark run, in a child process that dies with the run. */
final class BenchDatabase {
  private BenchDatabase() {}

  /** Starts it on {@code dataDir} (kept), or on a temporary directory if that is null. */
  static EmbeddedPostgresProcess startEmbedded(Path dataDir) throws IOException {
    Path log = Files.createTempFile("arbiter-bench-postgres-", ".log");
    return EmbeddedPostgresProcess.start(dataDir, log);
  }
}
