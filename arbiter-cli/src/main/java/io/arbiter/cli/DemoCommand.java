package io.arbiter.cli;

import io.arbiter.ArbiterException;
import io.arbiter.cli.runtime.MasterMain;
import io.arbiter.cli.runtime.StatusView;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.testkit.EmbeddedPostgresProcess;
import io.arbiter.testkit.process.ChildJvm;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Starts a database (embedded unless --db names one), N master processes running the build-farm
 * workload, and prints who runs what every few seconds. Ctrl-C stops the masters cleanly, then the
 * database. The masters run the master runtime, {@code arbiter-master.jar}, found beside the
 * running {@code arbiter.jar}. Every child process stops by itself if the demo dies.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Start a database and several masters running a small build farm; watch failover.")
public final class DemoCommand implements Callable<Integer> {
  @Mixin DbOptions db;

  @Option(
      names = "--masters",
      defaultValue = "3",
      description = "Master processes (default ${DEFAULT-VALUE}).")
  int masters;

  @Option(
      names = "--services",
      defaultValue = "12",
      description = "Clustered services (default ${DEFAULT-VALUE}).")
  int services;

  @Option(
      names = "--interval",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "How often to print the status table (default ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(
      names = "--duration",
      converter = DurationConverter.class,
      description = "Stop by itself after this long (default: run until Ctrl-C).")
  Duration duration;

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * The master runtime beside the running tool ({@code java -jar arbiter-master.jar master}); when
   * not run from a jar (tests, an IDE), the runtime's main class on this classpath.
   */
  static ChildJvm masterJvm() {
    return ChildJvm.besideRunningJar("arbiter-master.jar")
        .map(jar -> ChildJvm.jar(jar, "master"))
        .orElseGet(() -> ChildJvm.classpath(MasterMain.class.getName(), "master"));
  }

  @Override
  public Integer call() throws Exception {
    if (masters < 1) {
      throw new io.arbiter.InvalidConfigException("--masters", masters, "must be at least 1");
    }
    Path logs = Files.createTempDirectory("arbiter-demo-logs-");
    EmbeddedPostgresProcess embedded = null;
    String url;
    if (db.embedded()) {
      System.out.println("starting an embedded PostgreSQL ...");
      embedded = EmbeddedPostgresProcess.start(db.dataDir(), logs.resolve("postgres.log"));
      url = embedded.jdbcUrl();
    } else {
      url = db.url("demo");
    }
    // Create the schema before the masters start, so the first status table is a real one.
    try (JdbcArbiter arbiter =
        JdbcArbiter.builder(url)
            .credentials(db.user(), db.password())
            .createSchema(db.createSchema())
            .build()) {
      arbiter.initializeSchema();
    }
    ChildJvm masterJvm = masterJvm();
    MasterFleet fleet = new MasterFleet(logs, masterJvm);
    CountDownLatch stopped = new CountDownLatch(1);
    EmbeddedPostgresProcess database = embedded;
    Thread stopAll =
        new Thread(
            () -> {
              System.out.println("\nstopping the masters cleanly ...");
              fleet.close();
              if (database != null) {
                try {
                  database.close();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              System.out.println("stopped.");
              stopped.countDown();
            });
    Runtime.getRuntime().addShutdownHook(stopAll);

    List<String> args =
        new ArrayList<>(List.of("--db", url, "--services", String.valueOf(services)));
    args.addAll(db.credentialArgs());
    args.addAll(List.of("--local-service", "force-scheduler:web"));
    // One secret for this demo's peer link, so the masters wake each other and classify failures.
    args.addAll(List.of("--peer-secret", java.util.UUID.randomUUID().toString()));
    List<String> webUrls = new ArrayList<>();
    for (int i = 1; i <= masters; i++) {
      // The first masters serve the web UI (and so run the force scheduler); the last builds.
      boolean webMaster = i < masters || masters == 1;
      List<String> own = new ArrayList<>(args);
      own.addAll(List.of("--tags", webMaster ? "web" : "builder"));
      if (webMaster) {
        int port = freePort();
        own.addAll(List.of("--web-port", String.valueOf(port)));
        webUrls.add("master-" + i + " http://127.0.0.1:" + port + "/");
      }
      fleet.start("master-" + i, own);
    }
    System.out.println();
    System.out.println("database:  " + url);
    System.out.println("masters:   " + masterJvm);
    System.out.println("logs:      " + logs);
    for (MasterProcess p : fleet.masters()) {
      System.out.println("           " + p.name() + " pid " + p.pid() + " -> " + p.log());
    }
    for (String web : webUrls) {
      System.out.println("web:       " + web);
    }
    if (!webUrls.isEmpty()) {
      System.out.println(
          "           log in on one (any name, password 'arbiter'): you are logged in on the"
              + " others too");
    }
    System.out.println("try:       kill -9 <pid> (crash: services move when the lease runs out),");
    System.out.println(
        "           kill -STOP <pid> (freeze: the master is fenced; kill -CONT to wake it),");
    System.out.println("           kill <pid> (clean stop: services move at once)");
    System.out.println(
        "           arbiter drain master-1 / undrain master-1 / move SERVICE --to master-2");
    System.out.println(
        "status:    java -jar arbiter-cli/target/arbiter.jar status --db '" + url + "'");
    System.out.println("Ctrl-C stops everything.\n");

    long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    try (JdbcArbiter arbiter =
        JdbcArbiter.builder(url)
            .credentials(db.user(), db.password())
            .heartbeatPoolSize(0) // a tool renews no lease
            .build()) {
      while (System.nanoTime() - end < 0 && stopped.getCount() > 0) {
        try {
          arbiter.initializeSchema();
          System.out.println(
              "---- " + LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")));
          System.out.print(StatusView.table(StatusView.Snapshot.read(arbiter), false));
        } catch (ArbiterException e) {
          System.out.println("(waiting for the masters: " + e.getMessage() + ")");
        }
        System.out.flush();
        stopped.await(interval.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }
    if (stopped.getCount() > 0) {
      Runtime.getRuntime().removeShutdownHook(stopAll);
      stopAll.run();
    }
    return 0;
  }
}
