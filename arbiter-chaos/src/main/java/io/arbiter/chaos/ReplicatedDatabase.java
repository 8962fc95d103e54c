package io.arbiter.chaos;

import io.arbiter.testkit.EmbeddedPostgresProcess;
import io.arbiter.testkit.EmbeddedPostgresReplication;
import io.arbiter.testkit.FaultProxy;
import java.io.IOException;
import java.net.URI;

/**
 * The run's embedded PostgreSQL as a primary with a synchronous streaming replica, in a child
 * process, for {@code failover} faults. Everyone (the masters' own proxies, the probe) reaches it
 * through one front proxy, which a failover points at the promoted replica, as a virtual IP or a
 * DNS name that follows the primary would. A {@code dbrestart} restarts the current primary.
 */
final class ReplicatedDatabase implements ChaosDatabase {
  private final EmbeddedPostgresProcess process;
  private final FaultProxy front;
  private final String url;

  private ReplicatedDatabase(EmbeddedPostgresProcess process, FaultProxy front) {
    this.process = process;
    this.front = front;
    this.url = front.jdbcUrl(process.jdbcUrl());
  }

  static ReplicatedDatabase start(java.nio.file.Path log) throws IOException {
    EmbeddedPostgresProcess process =
        EmbeddedPostgresProcess.startReplicated(EmbeddedPostgresReplication.Mode.SYNCHRONOUS, log);
    try {
      return new ReplicatedDatabase(process, FaultProxy.forUrl(process.jdbcUrl()));
    } catch (IOException | RuntimeException e) {
      closeQuietly(process);
      throw e;
    }
  }

  @Override
  public String jdbcUrl() {
    return url;
  }

  @Override
  public String label() {
    return "embedded PostgreSQL, a primary and a synchronous streaming replica";
  }

  @Override
  public boolean restartable() {
    return true;
  }

  @Override
  public boolean canFailOver() {
    return true;
  }

  @Override
  public void failOver() throws IOException {
    String primary = process.failOver();
    front.retarget(URI.create(primary.substring("jdbc:".length())).getPort());
  }

  @Override
  public void rebuildReplica() throws IOException {
    process.rebuildReplica();
  }

  /** Stops the current primary (a database restart fault); the replica waits for it. */
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
    front.close();
    closeQuietly(process);
  }

  private static void closeQuietly(EmbeddedPostgresProcess process) {
    try {
      process.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
