package io.arbiter.testkit.process;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The master processes started by one command or test. Closing the fleet stops every one of them
 * (SIGCONT, SIGTERM, then SIGKILL after a grace period); a shutdown hook does the same if the JVM
 * exits first (Ctrl-C), so no child outlives its parent.
 */
public final class MasterFleet implements AutoCloseable {
  private final Path logDir;
  private final ChildJvm jvm;
  private final List<MasterProcess> masters = new CopyOnWriteArrayList<>();
  private final Thread hook;

  /**
   * @param jvm how to start a master: {@link #start} appends {@code --name NAME} and its arguments
   */
  public MasterFleet(Path logDir, ChildJvm jvm) {
    this.logDir = logDir;
    this.jvm = jvm;
    this.hook = new Thread(this::stopAll, "arbiter-fleet-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts a master with {@code --name NAME ARGS}. */
  public MasterProcess start(String name, List<String> args) throws IOException {
    List<String> masterArgs = new ArrayList<>(List.of("--name", name));
    masterArgs.addAll(args);
    MasterProcess p =
        new MasterProcess(name, jvm.command(masterArgs), logDir.resolve(name + ".log"));
    p.start();
    masters.add(p);
    return p;
  }

  /** Starts a master again with its original command (a restart after kill or stop). */
  public void restart(MasterProcess p) throws IOException {
    p.start();
  }

  public List<MasterProcess> masters() {
    return List.copyOf(masters);
  }

  public Path logDir() {
    return logDir;
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
  }

  private void stopAll() {
    List<Thread> stoppers = new ArrayList<>();
    for (MasterProcess p : masters) {
      Thread t =
          new Thread(
              () -> {
                try {
                  p.stop(10_000);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      t.start();
      stoppers.add(t);
    }
    for (Thread t : stoppers) {
      try {
        t.join(15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    killAll();
  }

  private void killAll() {
    for (MasterProcess p : masters) {
      try {
        p.resume();
        if (p.isAlive()) {
          p.kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
