package io.arbiter.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.testkit.EmbeddedPostgresServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A real {@code arbiter demo} (a JVM of its own, with its embedded PostgreSQL and its masters in
 * child processes) killed with -9 leaves nothing behind: within 10 s its masters, the database's
 * JVM and the PostgreSQL server itself have all exited by themselves, even a master that was frozen
 * (SIGSTOP) at the time. Whatever the outcome, the test kills every process it saw. Output is kept
 * in {@code target/demo-parent-death/}.
 */
@Tag("slow")
class DemoParentDeathTest {
  private static final Pattern MASTER_PID = Pattern.compile("(master-\\d+) pid (\\d+)");
  private static final int MASTERS = 2;

  @Test
  void killDashNineOfTheDemoLeavesNoProcessOfItBehind() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "demo-parent-death").toAbsolutePath());
    Path dataDir = Files.createTempDirectory(dir, "pgdata-");
    Path out = dir.resolve("demo-" + System.currentTimeMillis() + ".out");
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "demo",
            "--masters",
            String.valueOf(MASTERS),
            "--services",
            "4",
            "--interval",
            "1s",
            "--data-dir",
            dataDir.toString());
    Process demo =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    Set<ProcessHandle> seen = new LinkedHashSet<>();
    try {
      awaitMastersActive(demo, out);
      seen.addAll(demo.descendants().toList());
      seen.addAll(postgresOf(dataDir));
      List<Long> masters = masterPids(out);
      assertThat(masters).as("master pids in %s", out).hasSize(MASTERS);
      assertThat(seen.stream().map(ProcessHandle::pid).toList())
          .as("the demo's processes (masters, database JVM, PostgreSQL)")
          .containsAll(masters);
      assertThat(postgresOf(dataDir)).as("PostgreSQL server on %s", dataDir).isNotEmpty();
      System.out.printf(
          "demo pid %d; its processes: %s%n",
          demo.pid(), seen.stream().map(p -> describe(p)).collect(Collectors.joining("; ")));

      // One master frozen, as `kill -STOP` in the demo's own instructions: it cannot notice
      // anything until something wakes it.
      signal("STOP", masters.get(0));

      long killedAt = System.nanoTime();
      demo.destroyForcibly(); // SIGKILL: no shutdown hook runs in the demo
      assertThat(demo.waitFor(5, TimeUnit.SECONDS)).as("the demo died").isTrue();

      long deadline = killedAt + TimeUnit.SECONDS.toNanos(10);
      List<ProcessHandle> left = alive(seen, dataDir);
      while (!left.isEmpty() && System.nanoTime() - deadline < 0) {
        Thread.sleep(100);
        left = alive(seen, dataDir);
      }
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      System.out.printf(
          "after kill -9 of the demo: %s in %d ms%n",
          left.isEmpty() ? "every child gone" : "still running " + left, tookMillis);
      assertThat(left.stream().map(DemoParentDeathTest::describe).toList())
          .as("processes of the demo still running 10 s after kill -9 (demo output in %s)", out)
          .isEmpty();
    } finally {
      demo.destroyForcibly();
      for (ProcessHandle p : seen) {
        p.destroyForcibly(); // SIGKILL also ends a stopped process
      }
      for (ProcessHandle p : postgresOf(dataDir)) {
        p.destroyForcibly();
      }
      EmbeddedPostgresServer.deleteTree(dataDir);
    }
  }

  private static void signal(String signal, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0)
        .as("kill -%s %d", signal, pid)
        .isTrue();
  }

  /** Waits until the demo's status table shows every master ACTIVE. */
  private static void awaitMastersActive(Process demo, Path out) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() - deadline < 0) {
      assertThat(demo.isAlive()).as("the demo is running (output in %s)", out).isTrue();
      String text = read(out);
      int active = 0;
      for (int i = 1; i <= MASTERS; i++) {
        if (Pattern.compile("(?m)^master-" + i + " +\\d+ ACTIVE").matcher(text).find()) {
          active++;
        }
      }
      if (active == MASTERS) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("the demo's masters were not all ACTIVE within 120 s:\n" + read(out));
  }

  private static List<Long> masterPids(Path out) throws IOException {
    List<Long> pids = new ArrayList<>();
    Matcher m = MASTER_PID.matcher(read(out));
    while (m.find()) {
      pids.add(Long.parseLong(m.group(2)));
    }
    return pids;
  }

  /** The PostgreSQL server on this data directory and its backends (not the demo's children). */
  private static List<ProcessHandle> postgresOf(Path dataDir) {
    String dir = dataDir.toString();
    List<ProcessHandle> server =
        ProcessHandle.allProcesses()
            .filter(p -> p.info().commandLine().map(c -> c.contains(dir)).orElse(false))
            .filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(false))
            .toList();
    List<ProcessHandle> all = new ArrayList<>(server);
    server.forEach(s -> all.addAll(s.descendants().toList()));
    return all;
  }

  private static List<ProcessHandle> alive(Set<ProcessHandle> seen, Path dataDir) {
    List<ProcessHandle> left =
        new ArrayList<>(seen.stream().filter(ProcessHandle::isAlive).toList());
    postgresOf(dataDir).stream().filter(p -> !left.contains(p)).forEach(left::add);
    return left;
  }

  private static String describe(ProcessHandle p) {
    String c = p.info().commandLine().orElse("?");
    return p.pid() + " " + (c.length() > 120 ? c.substring(0, 120) + "..." : c);
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }
}
