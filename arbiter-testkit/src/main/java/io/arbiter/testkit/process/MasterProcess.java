package io.arbiter.testkit.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One master running as a separate JVM, with its output in a log file. Used by the demo, the
 * benchmarks, chaos and the multi-process tests; {@link MasterFleet} stops every one of them when
 * its parent stops, and each stops by itself if its parent dies (see {@link ChildJvm}).
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
