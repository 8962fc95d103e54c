package io.arbiter.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One `arbiter master` running as a separate JVM, with its output in a log file. Used by the demo,
 * the benchmarks and the multi-process tests; {@link MasterFleet} makes sure none outlives them.
 */
public final class MasterProcess {
  private final String name;
  private final List<String> command;
  private final Path log;
  private Process process;

  MasterProcess(String name, List<String> command, Path log) {
    this.name = name;
    this.command = command;
    this.log = log;
  }

  /** The `arbiter` command's main class, run in each child JVM with this JVM's classpath. */
  public static final String MAIN_CLASS = "io.arbiter.cli.Main";

  private static final Path SETSID = Path.of("/usr/bin/setsid");

  /** The command that runs {@code arbiter master ARGS} with this JVM's classpath. */
  public static List<String> javaCommand(List<String> masterArgs) {
    List<String> args = new ArrayList<>(List.of("master"));
    args.addAll(masterArgs);
    return arbiterCommand(args);
  }

  /**
   * The command that runs {@code arbiter ARGS} in a new JVM with this JVM's classpath. Under setsid
   * where there is one: a Ctrl-C in the terminal then reaches only the parent, which stops its
   * children in order (masters first, the database last).
   */
  public static List<String> arbiterCommand(List<String> arbiterArgs) {
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(SETSID)) {
      cmd.add(SETSID.toString());
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(MAIN_CLASS);
    cmd.addAll(arbiterArgs);
    return cmd;
  }

  synchronized void start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    Files.createDirectories(log.getParent());
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  public synchronized long pid() {
    return process.pid();
  }

  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** kill -9: no shutdown hook runs, the lease is left to expire. */
  public synchronized void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM: the shutdown hook stops services and releases them. Waits for the exit. */
  public synchronized boolean stop(long timeoutMillis) throws InterruptedException {
    if (process == null) {
      return true;
    }
    resume(); // a stopped process cannot run its shutdown hook
    process.destroy();
    if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      return false;
    }
    return true;
  }

  /** Sends SIGTERM without waiting. */
  public synchronized void signalStop() {
    if (process != null) {
      process.destroy();
    }
  }

  /** SIGSTOP: the process freezes, as in a long GC pause or a VM that is suspended. */
  public synchronized void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT. */
  public synchronized void resume() throws InterruptedException {
    try {
      signal("CONT");
    } catch (IOException e) {
      // the process is gone
    }
  }

  private void signal(String sig) throws IOException, InterruptedException {
    if (process == null || !process.isAlive()) {
      return;
    }
    Process kill =
        new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
    kill.waitFor(5, TimeUnit.SECONDS);
  }

  public String logText() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }
}
