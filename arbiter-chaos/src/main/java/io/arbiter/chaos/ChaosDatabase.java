package io.arbiter.chaos;

import java.io.IOException;

/** The database a chaos run uses: an embedded PostgreSQL it can restart, or a server it cannot. */
public interface ChaosDatabase extends AutoCloseable {
  String jdbcUrl();

  /** For the report: "embedded PostgreSQL", "MariaDB server". */
  String label();

  /** True if {@link #stop()} and {@link #start()} work (only for the embedded PostgreSQL). */
  boolean restartable();

  /** Stops the server: its clients' connections drop. */
  void stop() throws IOException;

  /** Starts it again on the same port and data, if it is stopped. */
  void start() throws IOException;

  /** True if {@link #failOver()} works (the embedded primary with its replica). */
  default boolean canFailOver() {
    return false;
  }

  /**
   * Kills the primary and promotes its synchronous replica; the run's connections (all made through
   * {@link #jdbcUrl()}) reach the new primary from then on.
   */
  default void failOver() throws IOException {
    throw new UnsupportedOperationException(label() + " cannot fail over");
  }

  /** After {@link #failOver()}: a new replica for the new primary (which restarts briefly). */
  default void rebuildReplica() throws IOException {
    throw new UnsupportedOperationException(label() + " cannot fail over");
  }

  @Override
  void close() throws IOException;

  /** A server the run only connects to. */
  static ChaosDatabase server(String jdbcUrl) {
    return new DatabaseServer(jdbcUrl);
  }
}
