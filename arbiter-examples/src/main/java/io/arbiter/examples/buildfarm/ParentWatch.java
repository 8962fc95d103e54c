package io.arbiter.examples.buildfarm;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a child process stop cleanly when its parent is gone. The demo, the benchmarks and chaos
 * start masters with {@code -Darbiter.parentPid=PID}; a daemon thread looks at that process every
 * {@value #POLL_MILLIS} ms and, once it is gone (exited, killed, kill -9), calls {@link
 * System#exit}, so that the shutdown hook stops the master cleanly: its services stop and are
 * released at once instead of waiting for the lease to run out. A master started by hand (no such
 * property) is not watched.
 */
final class ParentWatch {
  /** The property that names the parent (the same name as the testkit's ChildJvm sets). */
  static final String PARENT_PID_PROPERTY = "arbiter.parentPid";

  static final long POLL_MILLIS = 500;

  private static final Logger log = LoggerFactory.getLogger(ParentWatch.class);

  private ParentWatch() {}

  /** Starts watching the parent named by the system property, if there is one. */
  static void startFromSystemProperty(String who) {
    parentPid().ifPresent(pid -> start(who, pid));
  }

  private static Optional<Long> parentPid() {
    String value = System.getProperty(PARENT_PID_PROPERTY);
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      log.warn("-D{}={} is not a pid; not watching the parent", PARENT_PID_PROPERTY, value);
      return Optional.empty();
    }
  }

  private static void start(String who, long pid) {
    // A killed parent can linger as a zombie until its own parent reaps it, and a zombie counts as
    // alive; but its children are handed to another process at once. So a master that started as
    // the parent's direct child also checks that it still is.
    boolean directChild = parentOfThisProcess() == pid;
    Thread t =
        new Thread(
            () -> {
              while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                  && (!directChild || parentOfThisProcess() == pid)) {
                try {
                  Thread.sleep(POLL_MILLIS);
                } catch (InterruptedException e) {
                  return;
                }
              }
              log.warn("{}: parent process {} is gone; stopping cleanly", who, pid);
              System.exit(0);
            },
            "parent-watch");
    t.setDaemon(true);
    t.start();
  }

  private static long parentOfThisProcess() {
    return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
  }
}
