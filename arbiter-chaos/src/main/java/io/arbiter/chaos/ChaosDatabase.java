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

  @Override
  void close() throws IOException;

  /** A server the run only connects to. */
  static ChaosDatabase server(String jdbcUrl) {
    return new DatabaseServer(jdbcUrl);
  }
}
