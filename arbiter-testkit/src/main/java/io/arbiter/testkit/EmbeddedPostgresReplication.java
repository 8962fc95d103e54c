package io.arbiter.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A primary and a streaming replica of the embedded PostgreSQL, for failover tests: the primary
 * dies, the replica is promoted, and clients that switch to it find what was replicated.
 *
 * <p>The embedded binaries have no {@code pg_basebackup}, and need none: the replica starts from a
 * cold copy of the stopped primary's data directory, with {@code standby.signal} and {@code
 * primary_conninfo}, and streams from the primary from there on. With {@link Mode#SYNCHRONOUS}, the
 * primary acknowledges a commit only once the replica has flushed it ({@code
 * synchronous_standby_names}), so a failover loses no acknowledged commit; with {@link
 * Mode#ASYNCHRONOUS} (PostgreSQL's default), the last acknowledged commits can be lost.
 *
 * <pre>{@code
 * try (EmbeddedPostgresReplication db = EmbeddedPostgresReplication.start(Mode.SYNCHRONOUS)) {
 *   String url = db.primaryUrl();
 *   ... clients write ...
 *   db.failOver(); // kills the primary (SIGKILL), promotes the replica
 *   String newUrl = db.primaryUrl();
 * }
 * }</pre>
 */
public final class EmbeddedPostgresReplication implements AutoCloseable {
  /** Whether the primary waits for the replica before it acknowledges a commit. */
  public enum Mode {
    SYNCHRONOUS,
    ASYNCHRONOUS
  }

  private static final String REPLICA_NAME = "arbiter_replica";
  private static final Duration PROMOTE_WAIT = Duration.ofSeconds(60);

  private final Mode mode;
  private final Path root;
  private FaultProxy replicationLink;
  private EmbeddedPostgres primary;
  private EmbeddedPostgres replica;
  private Path primaryDir;
  private Path replicaDir;
  private boolean failedOver;
  private boolean primaryStopped;

  private EmbeddedPostgresReplication(Mode mode, Path root) {
    this.mode = mode;
    this.root = root;
  }

  /** Starts a primary and a replica streaming from it, in a new temporary directory. */
  public static EmbeddedPostgresReplication start(Mode mode) throws IOException {
    EmbeddedPostgresReplication r =
        new EmbeddedPostgresReplication(mode, Files.createTempDirectory("arbiter-pg-repl-"));
    try {
      r.startPair();
      return r;
    } catch (IOException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  private void startPair() throws IOException {
    primaryDir = root.resolve("primary");
    replicaDir = root.resolve("replica");
    // First start: initdb. Then stop, so that its data directory can be copied cold.
    Files.createDirectories(primaryDir);
    EmbeddedPostgres first = server(primaryDir, 0).start();
    int primaryPort = first.getPort();
    first.close();
    // The replica streams through a proxy, so that a test can hold replication back.
    replicationLink = FaultProxy.forUrl(url(first));
    makeReplica();
    primary = server(primaryDir, primaryPort).start();
    replica = server(replicaDir, 0).start();
    awaitStreaming();
  }

  /**
   * Turns a cold copy of the stopped primary's data directory into a replica streaming from it
   * (over {@link #replicationLink}), and makes the primary wait for it if synchronous.
   */
  private void makeReplica() throws IOException {
    copyTree(primaryDir, replicaDir);
    // PostgreSQL refuses a data directory that others may read.
    Files.setPosixFilePermissions(replicaDir, PosixFilePermissions.fromString("rwx------"));
    Files.writeString(replicaDir.resolve("standby.signal"), "");
    // Settings of the copied primary (a former replica's conninfo, the primary's standby names) are
    // dropped: the last line of each setting wins, and only these two are ever written here.
    writeSetting(
        replicaDir,
        "primary_conninfo",
        "host=127.0.0.1 port="
            + replicationLink.port()
            + " user=postgres application_name="
            + REPLICA_NAME);
    writeSetting(replicaDir, "synchronous_standby_names", "");
    writeSetting(
        primaryDir, "synchronous_standby_names", mode == Mode.SYNCHRONOUS ? REPLICA_NAME : "");
  }

  private static void writeSetting(Path dataDir, String name, String value) throws IOException {
    Files.writeString(
        dataDir.resolve("postgresql.auto.conf"),
        "\n" + name + " = '" + value + "'\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
  }

  /**
   * Stops the current primary cleanly (its clients' connections drop; the replica waits for it), as
   * a restart of the database server would.
   */
  public synchronized void stopPrimary() throws IOException {
    if (!primaryStopped) {
      current().close();
      primaryStopped = true;
    }
  }

  /** Starts the current primary again on its port and data, if {@link #stopPrimary} stopped it. */
  public synchronized void startPrimary() throws IOException {
    if (!primaryStopped) {
      return;
    }
    primaryStopped = false;
    EmbeddedPostgres stopped = current();
    Path dir = failedOver ? replicaDir : primaryDir;
    EmbeddedPostgres started = server(dir, stopped.getPort()).start();
    if (failedOver) {
      replica = started;
    } else {
      primary = started;
    }
  }

  private EmbeddedPostgres current() {
    return failedOver ? replica : primary;
  }

  /**
   * After {@link #failOver}: gives the new primary a replica of its own, so that it can fail over
   * again. The embedded binaries have no {@code pg_basebackup}, so the new primary is stopped for
   * the cold copy and started again on the same port (its clients see a database restart of a
   * second or two), and the new replica streams from it.
   */
  public synchronized void rebuildReplica() throws IOException {
    if (!failedOver) {
      throw new IllegalStateException("the pair has a replica; fail over first");
    }
    int port = replica.getPort();
    replica.close(); // the promoted one: stopped cleanly for the copy
    EmbeddedPostgresServer.deleteTree(primaryDir); // the killed primary's data: diverged, unused
    Path promoted = replicaDir;
    primaryDir = promoted;
    replicaDir = root.resolve("replica-" + System.nanoTime());
    replicationLink.retarget(port);
    makeReplica();
    primary = server(primaryDir, port).start();
    replica = server(replicaDir, 0).start();
    failedOver = false;
    awaitStreaming();
  }

  private static EmbeddedPostgres.Builder server(Path dir, int port) {
    EmbeddedPostgres.Builder b =
        EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(false) // kept for the copy; close() deletes the root
            .setServerConfig("max_connections", EmbeddedPostgresServer.MAX_CONNECTIONS)
            // The embedded server turns it off by default (fast tests); then a commit waits for
            // neither the disk nor the replica, and synchronous replication means nothing.
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("wal_level", "replica")
            .setServerConfig("max_wal_senders", "5")
            .setServerConfig("hot_standby", "on")
            // A replica whose primary restarted reconnects after this (default 5 s). With
            // synchronous replication every commit waits for it meanwhile: a restart of the
            // primary would cost the masters seconds of PostgreSQL's retry interval, not Arbiter's.
            .setServerConfig("wal_retrieve_retry_interval", "200ms");
    if (port != 0) {
      b.setPort(port);
    }
    return b;
  }

  /** Waits until the primary sees the replica streaming (and, if synchronous, as synchronous). */
  private void awaitStreaming() throws IOException {
    String expected = mode == Mode.SYNCHRONOUS ? "sync" : "async";
    long deadline = System.nanoTime() + PROMOTE_WAIT.toNanos();
    try (Connection c = DriverManager.getConnection(url(primary));
        Statement s = c.createStatement()) {
      while (System.nanoTime() - deadline < 0) {
        try (ResultSet rs =
            s.executeQuery(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
                    + REPLICA_NAME
                    + "' AND state = 'streaming'")) {
          if (rs.next() && rs.getString(1).equals(expected)) {
            return;
          }
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
    } catch (SQLException e) {
      throw new IOException("could not watch replication on the primary: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the replica", e);
    }
    throw new IOException("the replica did not start streaming within " + PROMOTE_WAIT);
  }

  /** The JDBC URL of the current primary's default database, as user postgres. */
  public synchronized String primaryUrl() {
    return url(failedOver ? replica : primary);
  }

  /** The port of the current primary. */
  public synchronized int primaryPort() {
    return (failedOver ? replica : primary).getPort();
  }

  /** The JDBC URL of the replica (read-only until it is promoted). */
  public synchronized String replicaUrl() {
    return url(replica);
  }

  public Mode mode() {
    return mode;
  }

  /**
   * The link the replica streams over. {@link FaultProxy.Mode#BLACKHOLE} holds replication back:
   * with {@link Mode#ASYNCHRONOUS}, the primary goes on acknowledging commits that the replica does
   * not have, and a failover then loses them (with {@link Mode#SYNCHRONOUS}, commits wait instead).
   */
  public FaultProxy replicationLink() {
    return replicationLink;
  }

  /**
   * Kills the primary as a crash would (SIGKILL of its postmaster: no shutdown, no last WAL sent),
   * then promotes the replica and waits until it accepts writes. Every client connection to the old
   * primary is gone; clients must connect to {@link #primaryUrl()}.
   */
  public synchronized void failOver() throws IOException {
    if (failedOver) {
      throw new IllegalStateException("already failed over");
    }
    startPrimary(); // a stopped primary is started, so that it can be killed as a crash would
    killPostmaster(primaryDir);
    try (Connection c = DriverManager.getConnection(url(replica));
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery("SELECT pg_promote(true, " + PROMOTE_WAIT.toSeconds() + ")")) {
        if (!rs.next() || !rs.getBoolean(1)) {
          throw new IOException("the replica was not promoted within " + PROMOTE_WAIT);
        }
      }
    } catch (SQLException e) {
      throw new IOException("could not promote the replica: " + e.getMessage(), e);
    }
    failedOver = true;
  }

  private static void killPostmaster(Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("the primary (pid " + pid + ") did not die within 30 s");
      }
      try {
        TimeUnit.MILLISECONDS.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while killing the primary", e);
      }
    }
    // Its backends end on their own once the postmaster is gone; the next start of this data
    // directory (none here) would run crash recovery.
  }

  @Override
  public synchronized void close() throws IOException {
    for (EmbeddedPostgres server : new EmbeddedPostgres[] {replica, primary}) {
      if (server != null) {
        try {
          server.close();
        } catch (IOException | RuntimeException e) {
          // The killed primary cannot be stopped cleanly; the directory goes below anyway.
        }
      }
    }
    if (primaryDir != null && !failedOver) {
      killPostmaster(primaryDir); // in case close() above could not stop it
    }
    if (replicationLink != null) {
      replicationLink.close();
    }
    EmbeddedPostgresServer.deleteTree(root);
  }

  private static String url(EmbeddedPostgres server) {
    return "jdbc:postgresql://127.0.0.1:" + server.getPort() + "/postgres?user=postgres";
  }

  private static void copyTree(Path from, Path to) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(from)) {
      files = walk.toList();
    }
    for (Path f : files) {
      Path target = to.resolve(from.relativize(f).toString());
      String name = f.getFileName().toString();
      if (name.equals("postmaster.pid") || name.equals("epg-lock")) {
        continue;
      }
      if (Files.isDirectory(f)) {
        Files.createDirectories(target);
      } else {
        Files.copy(f, target);
      }
    }
  }
}
