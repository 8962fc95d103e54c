package io.arbiter.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.MemberState;
import io.arbiter.cli.workload.BuildFarmWorkload;
import io.arbiter.cli.workload.MasterHistory;
import io.arbiter.cli.workload.TickingService;
import io.arbiter.jdbc.ArbiterDataSources;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcClusterStore;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** One master of the build-farm workload, until SIGTERM/Ctrl-C (a clean stop) or a failure. */
@Command(
    name = "master",
    mixinStandardHelpOptions = true,
    description = "Run one master of the demo build-farm workload against a database.")
public final class MasterCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(MasterCommand.class);

  @Mixin DbOptions db;

  @Option(names = "--name", required = true, description = "Unique name of this master.")
  String name;

  @Option(
      names = "--services",
      defaultValue = "12",
      description = "Clustered services to run (default ${DEFAULT-VALUE}).")
  int services;

  @Option(names = "--service-prefix", defaultValue = "", description = "Prefix for service names.")
  String servicePrefix;

  @Option(
      names = "--capacity",
      defaultValue = "1",
      description = "This master's share of the services relative to the others (default 1).")
  double capacity;

  @Option(
      names = "--tags",
      split = ",",
      description = "What this master offers (e.g. web,builder), for services that require a tag.")
  java.util.List<String> tags = new java.util.ArrayList<>();

  @Option(
      names = "--local-service",
      paramLabel = "NAME[:TAG]",
      description =
          "A local service (the demo's force scheduler): it runs on every master with TAG at once."
              + " Repeatable.")
  java.util.List<String> localServices = new java.util.ArrayList<>();

  @Option(
      names = "--web-port",
      defaultValue = "-1",
      description =
          "Serve the demo web app (login, shared sessions) on 127.0.0.1 at this port; 0 picks a"
              + " free port, -1 (default) serves none.")
  int webPort;

  @Option(
      names = "--peer-secret",
      defaultValue = "${env:ARBITER_PEER_SECRET}",
      description =
          "Run the peer link with this cluster secret (at least 16 bytes; default: the environment"
              + " variable ARBITER_PEER_SECRET). Without it, no peer link.")
  String peerSecret;

  @Option(
      names = "--peer-port",
      defaultValue = "0",
      description = "Port of the peer link (default 0: a free port, advertised in the database).")
  int peerPort;

  @Option(
      names = "--peer-host",
      defaultValue = "127.0.0.1",
      description = "Address the peer link listens on and advertises (default ${DEFAULT-VALUE}).")
  String peerHost;

  @Option(
      names = "--tick",
      defaultValue = "250ms",
      converter = DurationConverter.class,
      description = "How often each service writes a fenced tick (default ${DEFAULT-VALUE}).")
  Duration tick;

  @Option(
      names = "--lease-ttl",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Lease TTL, judged by the database clock (default ${DEFAULT-VALUE}).")
  Duration leaseTtl;

  @Option(
      names = "--work",
      defaultValue = "50ms",
      converter = DurationConverter.class,
      description =
          "Work each service does between deciding to write and writing (default ${DEFAULT-VALUE}).")
  Duration work;

  @Option(
      names = "--history",
      description = "Append what this master does to this file (JSON lines).")
  java.nio.file.Path historyFile;

  @Option(
      names = "--clock-offset-file",
      description = "Shift this master's wall clock by the milliseconds written in this file.")
  java.nio.file.Path clockOffsetFile;

  @Option(
      names = "--plant-bug",
      description =
          "Break a safety mechanism on purpose (checker tests): ${COMPLETION-CANDIDATES}.",
      completionCandidates = BugNames.class)
  java.util.List<String> plantBugs = new java.util.ArrayList<>();

  /** The names --plant-bug accepts. */
  static final class BugNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return java.util.Arrays.stream(io.arbiter.PlantedBugs.Bug.values())
          .map(io.arbiter.PlantedBugs.Bug::label)
          .iterator();
    }
  }

  @Override
  public Integer call() throws Exception {
    java.util.Set<io.arbiter.PlantedBugs.Bug> bugs =
        java.util.EnumSet.noneOf(io.arbiter.PlantedBugs.Bug.class);
    plantBugs.forEach(b -> bugs.add(io.arbiter.PlantedBugs.Bug.of(b)));
    io.arbiter.PlantedBugs.plant(bugs);
    String url = db.url("master");
    ClusterConfig config;
    try {
      config = ClusterConfig.builder(name).leaseTtl(leaseTtl).capacity(capacity).tags(tags).build();
    } catch (io.arbiter.InvalidConfigException e) {
      throw switch (e.field()) {
        case "memberName" -> e.renamed("--name", "'" + name + "'");
        case "leaseTtl" -> e.renamed("--lease-ttl", leaseTtl);
        case "capacity" -> e.renamed("--capacity", capacity);
        case "tag" -> e.renamed("--tags", tags);
        default -> e;
      };
    }
    if (services < 1) {
      throw new io.arbiter.InvalidConfigException("--services", services, "must be at least 1");
    }
    Dialect dialect = Dialect.forUrl(url);
    JdbcClusterStore store =
        JdbcClusterStore.open(url, db.user(), db.password(), leaseTtl, db.createSchema);
    HikariDataSource workloadPool =
        ArbiterDataSources.create(
            url, db.user(), db.password(), leaseTtl, Math.min(services, 16), "workload-" + name);
    AtomicLong accepted = new AtomicLong();
    AtomicLong rejected = new AtomicLong();
    MasterHistory history =
        historyFile == null
            ? MasterHistory.none()
            : MasterHistory.open(
                historyFile,
                name,
                config.leaseTtl().toMillis(),
                config.selfFenceMargin().toMillis());
    Cluster.Builder builder =
        Cluster.builder(store, config)
            .listener(history)
            .events(io.arbiter.jdbc.JdbcEventStore.create(store.dataSource(), store.dialect()));
    if (peerSecret != null && !peerSecret.isEmpty()) {
      try {
        builder.peerLink(
            io.arbiter.peer.PeerLinkConfig.builder(peerSecret)
                .databaseStaleAfter(config.renewInterval().multipliedBy(2))
                .bindHost(peerHost)
                .advertisedHost(peerHost)
                .port(peerPort)
                .build());
      } catch (io.arbiter.InvalidConfigException e) {
        throw e.renamed("--peer-secret", "(hidden)");
      }
    }
    if (clockOffsetFile != null) {
      builder.clock(new OffsetClock(clockOffsetFile));
    }
    TickingService.TableOnce table = new TickingService.TableOnce();
    for (String service : BuildFarmWorkload.serviceNames(servicePrefix, services)) {
      builder.service(
          service,
          new TickingService(
              workloadPool, dialect, table, tick, work, history, accepted, rejected));
    }
    for (String local : localServices) {
      String[] parts = local.split(":", 2);
      io.arbiter.balance.Placement where =
          io.arbiter.balance.Placement.ANYWHERE.onEveryMatchingMaster();
      if (parts.length == 2) {
        where = where.requireTag(parts[1]);
      }
      try {
        builder.service(
            new io.arbiter.balance.ServiceSpec(servicePrefix + parts[0], 1, where),
            new io.arbiter.cli.workload.ForceScheduler());
      } catch (io.arbiter.InvalidConfigException e) {
        throw e.renamed("--local-service", "'" + local + "'");
      }
    }
    Cluster cluster = builder.build();
    DemoWeb web =
        webPort >= 0
            ? DemoWeb.start(url, db, name, webPort, cluster.events(), workloadPool, dialect)
            : null;
    CountDownLatch exited = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("{}: stopping cleanly", name);
                  if (web != null) {
                    web.close();
                  }
                  cluster.close();
                  store.close();
                  workloadPool.close();
                  try {
                    history.close();
                  } catch (java.io.IOException e) {
                    log.warn("closing the history: {}", e.toString());
                  }
                  log.info(
                      "{}: stopped; ticks accepted {}, rejected by the fence {}",
                      name,
                      accepted.get(),
                      rejected.get());
                  exited.countDown();
                },
                "arbiter-shutdown"));
    try {
      table.ensure(workloadPool, dialect); // now rather than inside the first service start
    } catch (java.sql.SQLException e) {
      log.debug(
          "tick table not created yet ({}); the first service start will retry", e.toString());
    }
    cluster.start();
    while (true) {
      if (cluster.state() == MemberState.FAILED) {
        System.err.println(
            "arbiter master "
                + name
                + ": "
                + cluster.failure().map(Throwable::getMessage).orElse("failed"));
        return 2;
      }
      if (exited.getCount() == 0) {
        return 0;
      }
      Thread.sleep(200);
    }
  }
}
