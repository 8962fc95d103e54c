package io.arbiter.chaos;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * An embedded PostgreSQL that can be stopped and started again on the same port and data directory,
 * as a database server restarted under load: its clients lose their connections and get them back
 * at the same address, with every committed row still there. The data directory is deleted when the
 * server is closed.
 */
public final class EmbeddedPostgresServer implements ChaosDatabase {
  private final Path dataDir;
  private final int port;
  private EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(Path dataDir, EmbeddedPostgres first) {
    this.dataDir = dataDir;
    this.postgres = first;
    this.port = first.getPort();
  }

  public static EmbeddedPostgresServer start(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    return new EmbeddedPostgresServer(dataDir, builder(dataDir).start());
  }

  private static EmbeddedPostgres.Builder builder(Path dataDir) {
    return EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false) // kept across restarts; deleted by close()
        .setServerConfig("max_connections", "300");
  }

  @Override
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
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
  public synchronized void stop() throws IOException {
    if (postgres != null) {
      postgres.close();
      postgres = null;
    }
  }

  @Override
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
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
