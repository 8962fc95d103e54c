package io.arbiter.testkit;

import io.arbiter.testkit.process.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The {@link EmbeddedPostgresServer} in a child JVM of its own, for the demo, the benchmarks and
 * chaos: the parent can stop its masters first and the database last, restart the database under
 * load, and the database goes away by itself when the parent dies, however it dies.
 *
 * <p>The two talk over the child's standard streams, one line each: the child prints {@code URL
 * <jdbc-url>} once the server accepts connections; {@code stop} stops the server (answered by
 * {@code STOPPED}), {@code start} starts it again on the same port and data (answered by {@code URL
 * ...}), {@code exit} stops it and exits. When its standard input ends without an {@code exit} or
 * its parent's pid is gone, the parent has died (the system closes a dead process's pipes): the
 * child then gives the parent's other children (its masters, also leaving) up to {@value
 * #CLIENTS_GRACE_MILLIS} ms to disconnect, so that they can still release what they hold, then
 * stops the server and exits.
 */
public final class EmbeddedPostgresProcess implements AutoCloseable {
  private static final long PARENT_POLL_MILLIS = 500;
  private static final long CLIENTS_GRACE_MILLIS = 5_000;

  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  private final Path log;
  private volatile String url;

  private EmbeddedPostgresProcess(
      Process process, BufferedReader out, Writer in, Path log, String url) {
    this.process = process;
    this.out = out;
    this.in = in;
    this.log = log;
    this.url = url;
  }

  /**
   * Starts the child and waits until its server accepts connections.
   *
   * @param dataDir the data directory (kept), or null for a temporary one (deleted at the end)
   * @param log where the child's diagnostics go
   */
  public static EmbeddedPostgresProcess start(Path dataDir, Path log) throws IOException {
    List<String> args = new ArrayList<>();
    if (dataDir != null) {
      args.addAll(List.of("--data-dir", dataDir.toAbsolutePath().toString()));
    }
    return startChild(args, log);
  }

  /**
   * Starts a child that runs a primary and a streaming replica ({@link
   * EmbeddedPostgresReplication}); {@link #jdbcUrl()} is the current primary's, {@link #failOver}
   * and {@link #rebuildReplica} fail it over and give it a new replica; {@link #stop} and {@link
   * #start} stop and start the current primary.
   */
  public static EmbeddedPostgresProcess startReplicated(
      EmbeddedPostgresReplication.Mode mode, Path log) throws IOException {
    return startChild(List.of("--replicated", mode.name()), log);
  }

  private static EmbeddedPostgresProcess startChild(List<String> args, Path log)
      throws IOException {
    ChildJvm jvm =
        ChildJvm.classpath(EmbeddedPostgresProcess.class.getName())
            .withJvmOptions(List.of("-Xmx64m"));
    Process p =
        new ProcessBuilder(jvm.command(args))
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
    String url = awaitUrl(out);
    if (url == null) {
      p.destroyForcibly();
      throw new IOException("the embedded PostgreSQL did not start; see " + log);
    }
    return new EmbeddedPostgresProcess(p, out, in, log, url);
  }

  private static String awaitUrl(BufferedReader out) throws IOException {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("URL ")) {
        return line.substring(4).trim();
      }
    }
    return null;
  }

  public String jdbcUrl() {
    return url;
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Kills the primary and promotes the replica (see {@link EmbeddedPostgresReplication#failOver});
   * returns the new primary's URL, which {@link #jdbcUrl()} returns from then on.
   */
  public synchronized String failOver() throws IOException {
    url = command("failover", "URL ").substring(4).trim();
    return url;
  }

  /**
   * Gives the promoted primary a new replica ({@link EmbeddedPostgresReplication#rebuildReplica}).
   */
  public synchronized void rebuildReplica() throws IOException {
    command("rebuild", "URL ");
  }

  /** Stops the server (the child keeps running); its clients' connections drop. */
  public synchronized void stop() throws IOException {
    command("stop", "STOPPED");
  }

  /** Starts the server again on the same port and data. */
  public synchronized void start() throws IOException {
    command("start", "URL ");
  }

  private String command(String command, String answer) throws IOException {
    in.write(command + "\n");
    in.flush();
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(answer)) {
        return line;
      }
      if (line.startsWith("ERROR ")) {
        throw new IOException("the embedded PostgreSQL could not " + command + ": " + line);
      }
    }
    throw new IOException(
        "the embedded PostgreSQL process ended during '" + command + "'; see " + log);
  }

  /** Stops the server and the child, and waits for both (SIGKILL after 30 s). */
  @Override
  public synchronized void close() throws InterruptedException {
    try {
      in.write("exit\n");
      in.close();
    } catch (IOException e) {
      process.destroy(); // SIGTERM: its shutdown hook stops the server
    }
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The child: {@code [--data-dir DIR]} or {@code --replicated SYNCHRONOUS|ASYNCHRONOUS}. */
  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--replicated")) {
      replicatedMain(EmbeddedPostgresReplication.Mode.valueOf(args[1]));
      return;
    }
    Path dataDir = args.length == 2 && args[0].equals("--data-dir") ? Path.of(args[1]) : null;
    PrintStream stdout = System.out;
    System.setOut(System.err); // only the protocol goes to standard output
    EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                  } catch (IOException e) {
                    System.err.println("embedded PostgreSQL: " + e.getMessage());
                  }
                },
                "embedded-postgres-stop"));
    watchParent(server::jdbcUrl);
    stdout.println("URL " + server.jdbcUrl());
    stdout.flush();
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = commands.readLine()) != null) {
      switch (line.trim()) {
        case "stop" -> {
          server.stop();
          stdout.println("STOPPED");
        }
        case "start" -> {
          server.start();
          stdout.println("URL " + server.jdbcUrl());
        }
        case "exit" -> System.exit(0); // the shutdown hook stops the server
        default -> System.err.println("embedded PostgreSQL: unknown command '" + line + "'");
      }
      stdout.flush();
    }
    parentGone(server::jdbcUrl, "its input ended");
  }

  private static void replicatedMain(EmbeddedPostgresReplication.Mode mode) throws Exception {
    PrintStream stdout = System.out;
    System.setOut(System.err); // only the protocol goes to standard output
    EmbeddedPostgresReplication pair = EmbeddedPostgresReplication.start(mode);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    pair.close();
                  } catch (IOException e) {
                    System.err.println("embedded PostgreSQL: " + e.getMessage());
                  }
                },
                "embedded-postgres-stop"));
    watchParent(pair::primaryUrl);
    stdout.println("URL " + pair.primaryUrl());
    stdout.flush();
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = commands.readLine()) != null) {
      try {
        switch (line.trim()) {
          case "failover" -> {
            pair.failOver();
            stdout.println("URL " + pair.primaryUrl());
          }
          case "rebuild" -> {
            pair.rebuildReplica();
            stdout.println("URL " + pair.primaryUrl());
          }
          case "stop" -> {
            pair.stopPrimary();
            stdout.println("STOPPED");
          }
          case "start" -> {
            pair.startPrimary();
            stdout.println("URL " + pair.primaryUrl());
          }
          case "exit" -> System.exit(0); // the shutdown hook stops both servers
          default -> stdout.println("ERROR unknown command '" + line + "'");
        }
      } catch (IOException | RuntimeException e) {
        e.printStackTrace();
        stdout.println("ERROR " + e.getMessage());
      }
      stdout.flush();
    }
    parentGone(pair::primaryUrl, "its input ended");
  }

  /**
   * The parent died: waits (a bounded time) until no other client is connected, then exits, which
   * stops the server through the shutdown hook.
   */
  private static synchronized void parentGone(Supplier<String> url, String how) {
    System.err.println("embedded PostgreSQL: the parent process is gone (" + how + ")");
    wakeStoppedSiblings();
    long deadline = System.nanoTime() + CLIENTS_GRACE_MILLIS * 1_000_000;
    try (Connection c = DriverManager.getConnection(url.get());
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    + " AND pid <> pg_backend_pid()")) {
      while (System.nanoTime() - deadline < 0) {
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(1) == 0) {
            break;
          }
        }
        Thread.sleep(100);
      }
    } catch (SQLException | InterruptedException | RuntimeException e) {
      System.err.println("embedded PostgreSQL: " + e); // stop anyway
    }
    System.exit(0);
  }

  /**
   * Exits (through the shutdown hook) once the parent named by {@code -Darbiter.parentPid} is gone.
   */
  private static void watchParent(Supplier<String> url) {
    String pid = System.getProperty(ChildJvm.PARENT_PID_PROPERTY);
    if (pid == null || pid.isBlank()) {
      return;
    }
    long parent = Long.parseLong(pid.trim());
    // A killed parent can linger as a zombie (which counts as alive) until it is reaped, but its
    // children are handed to another process at once: a direct child checks that too.
    boolean directChild = parentOfThisProcess() == parent;
    Thread t =
        new Thread(
            () -> {
              while (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)
                  && (!directChild || parentOfThisProcess() == parent)) {
                try {
                  Thread.sleep(PARENT_POLL_MILLIS);
                } catch (InterruptedException e) {
                  return;
                }
              }
              parentGone(url, "pid " + parent + " ended");
            },
            "parent-watch");
    t.setDaemon(true);
    t.start();
  }

  /**
   * A sibling the parent left stopped (SIGSTOP: a master frozen by hand in the demo, or by a chaos
   * pause) cannot see that the parent is gone; SIGCONT lets it notice and stop cleanly. Siblings
   * are the processes started with the same {@code -Darbiter.parentPid}.
   */
  private static void wakeStoppedSiblings() {
    String pid = System.getProperty(ChildJvm.PARENT_PID_PROPERTY);
    if (pid == null || pid.isBlank()) {
      return;
    }
    String marker = "-D" + ChildJvm.PARENT_PID_PROPERTY + "=" + pid.trim();
    long self = ProcessHandle.current().pid();
    ProcessHandle.allProcesses()
        .filter(p -> p.pid() != self)
        .filter(p -> arguments(p).contains(marker))
        .forEach(
            p -> {
              System.err.println("embedded PostgreSQL: waking " + p.pid() + " (SIGCONT)");
              try {
                new ProcessBuilder("kill", "-CONT", Long.toString(p.pid()))
                    .inheritIO()
                    .start()
                    .waitFor(5, TimeUnit.SECONDS);
              } catch (IOException e) {
                System.err.println("embedded PostgreSQL: could not wake " + p.pid() + ": " + e);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  /**
   * A process's arguments. From /proc where there is one: ProcessHandle.Info leaves them out when
   * the command line is longer than a page, as a long classpath makes it.
   */
  private static List<String> arguments(ProcessHandle p) {
    Path cmdline = Path.of("/proc", Long.toString(p.pid()), "cmdline");
    try {
      if (Files.isReadable(cmdline)) {
        return List.of(new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).split("\0"));
      }
    } catch (IOException e) {
      return List.of(); // it ended meanwhile
    }
    return p.info().arguments().map(List::of).orElse(List.of());
  }

  private static long parentOfThisProcess() {
    return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
  }
}
