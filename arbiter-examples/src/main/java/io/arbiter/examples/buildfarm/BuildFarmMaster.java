package io.arbiter.examples.buildfarm;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusterListener;
import io.arbiter.ClusteredService;
import io.arbiter.InvalidConfigException;
import io.arbiter.MemberState;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.examples.cli.ArbiterCommandLine;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.web.DemoWeb;
import io.arbiter.jdbc.ArbiterDataSources;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcFence;
import io.arbiter.peer.PeerLinkConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * One master of the build-farm workload, until SIGTERM/Ctrl-C (a clean stop) or a failure: what
 * {@code arbiter master} runs, and what the chaos harness runs with its history recorder attached
 * ({@link #listener}, {@link #tickObserver}, {@link #clock}).
 *
 * <p>Started with {@code -Darbiter.parentPid=PID} (the demo, the benchmarks and chaos do that), it
 * stops cleanly by itself once that process is gone.
 */
public final class BuildFarmMaster {
  private static final Logger log = LoggerFactory.getLogger(BuildFarmMaster.class);

  private final BuildFarmMasterOptions options;
  private final ClusterConfig config;
  private ClusterListener listener = new ClusterListener() {};
  private TickObserver observer = TickObserver.NONE;
  private Clock clock;
  private UnaryOperator<ClusteredService> wrapper = UnaryOperator.identity();
  private final List<AutoCloseable> closeAtStop = new ArrayList<>();

  private BuildFarmMaster(BuildFarmMasterOptions options, ClusterConfig config) {
    this.options = options;
    this.config = config;
  }

  /**
   * Checks the options and makes the master's configuration.
   *
   * @throws InvalidConfigException naming the command-line option, the value and the rule
   */
  public static BuildFarmMaster create(BuildFarmMasterOptions o) {
    ClusterConfig config;
    try {
      config =
          ClusterConfig.builder(o.name)
              .leaseTtl(o.leaseTtl)
              .capacity(o.capacity)
              .tags(o.tags)
              .readOnlyStartupLimit(o.readOnlyStartupLimit)
              .callbackTimeout(o.callbackTimeout)
              .build();
    } catch (InvalidConfigException e) {
      throw switch (e.field()) {
        case "memberName" -> e.renamed("--name", "'" + o.name + "'");
        case "leaseTtl" -> e.renamed("--lease-ttl", o.leaseTtl);
        case "capacity" -> e.renamed("--capacity", o.capacity);
        case "tag" -> e.renamed("--tags", o.tags);
        case "readOnlyStartupLimit" ->
            e.renamed("--read-only-startup-limit", o.readOnlyStartupLimit);
        case "callbackTimeout" -> e.renamed("--callback-timeout", o.callbackTimeout);
        default -> e;
      };
    }
    if (o.services < 1) {
      throw new InvalidConfigException("--services", o.services, "must be at least 1");
    }
    return new BuildFarmMaster(o, config);
  }

  /** The master's cluster configuration, as made from the options. */
  public ClusterConfig config() {
    return config;
  }

  /** Hears the master's joins, renewals and fences. */
  public BuildFarmMaster listener(ClusterListener listener) {
    this.listener = listener;
    return this;
  }

  /** Hears every attempt of a service to act. */
  public BuildFarmMaster tickObserver(TickObserver observer) {
    this.observer = observer;
    return this;
  }

  /** The wall clock the master reads (default: the system's). */
  public BuildFarmMaster clock(Clock clock) {
    this.clock = clock;
    return this;
  }

  /**
   * Wraps each clustered service of the workload (the chaos harness makes its callbacks slow or
   * failing, and records them).
   */
  public BuildFarmMaster serviceWrapper(UnaryOperator<ClusteredService> wrapper) {
    this.wrapper = wrapper;
    return this;
  }

  /** Closed after the cluster at a clean stop (a history file, say). */
  public BuildFarmMaster closeAtStop(AutoCloseable resource) {
    closeAtStop.add(resource);
    return this;
  }

  /**
   * Runs the master until the JVM is told to stop (SIGTERM, Ctrl-C, its parent gone).
   *
   * @return 0 after a clean stop, 2 if the master failed for good
   */
  public int run() throws Exception {
    String name = options.name;
    ParentWatch.startFromSystemProperty(name);
    DbOptions db = options.db;
    String url = db.url("master");
    JdbcArbiter arbiter =
        JdbcArbiter.builder(url)
            .credentials(db.user(), db.password())
            .clusterConfig(config)
            .createSchema(db.createSchema())
            .build();
    Dialect dialect = arbiter.dialect();
    // The workload's own pool: its fenced ticks and the demo's tables, apart from Arbiter's.
    HikariDataSource workloadPool =
        ArbiterDataSources.create(
            url,
            db.user(),
            db.password(),
            options.leaseTtl,
            Math.min(options.services, 16),
            "workload-" + name);
    AtomicLong accepted = new AtomicLong();
    AtomicLong rejected = new AtomicLong();
    Cluster.Builder builder =
        Cluster.builder(arbiter.clusterStore(), config)
            .listener(listener)
            .events(arbiter.eventStore());
    if (options.peerSecret != null && !options.peerSecret.isEmpty()) {
      try {
        builder.peerLink(
            PeerLinkConfig.builder(options.peerSecret)
                .databaseStaleAfter(config.renewInterval().multipliedBy(2))
                .bindHost(options.peerHost)
                .advertisedHost(options.peerHost)
                .port(options.peerPort)
                .build());
      } catch (InvalidConfigException e) {
        throw e.renamed("--peer-secret", "(hidden)");
      }
    }
    if (clock != null) {
      builder.clock(clock);
    }
    TickingService.TableOnce table = new TickingService.TableOnce();
    JdbcFence fence = arbiter.fence(workloadPool);
    for (String service : BuildFarmWorkload.serviceNames(options.servicePrefix, options.services)) {
      builder.service(
          service,
          wrapper.apply(
              new TickingService(
                  workloadPool,
                  dialect,
                  fence,
                  table,
                  options.tick,
                  options.work,
                  observer,
                  accepted,
                  rejected)));
    }
    for (String local : options.localServices) {
      String[] parts = local.split(":", 2);
      Placement where = Placement.ANYWHERE.onEveryMatchingMaster();
      if (parts.length == 2) {
        where = where.requireTag(parts[1]);
      }
      try {
        builder.service(
            new ServiceSpec(options.servicePrefix + parts[0], 1, where), new ForceScheduler());
      } catch (InvalidConfigException e) {
        throw e.renamed("--local-service", "'" + local + "'");
      }
    }
    Cluster cluster = builder.build();
    DemoWeb web =
        options.webPort >= 0
            ? DemoWeb.start(url, db, name, options.webPort, cluster.events(), workloadPool, dialect)
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
                  arbiter.close();
                  workloadPool.close();
                  for (AutoCloseable c : closeAtStop) {
                    try {
                      c.close();
                    } catch (Exception e) {
                      log.warn("{}: closing {}: {}", name, c, e.toString());
                    }
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

  /**
   * Runs one master from this module's classpath, with the options of {@code arbiter master}: how
   * the benchmarks start masters when they do not run from the packaged tool.
   */
  public static void main(String[] args) {
    System.exit(ArbiterCommandLine.execute(new Standalone(), args));
  }

  @Command(
      name = "build-farm-master",
      mixinStandardHelpOptions = true,
      description = "Run one master of the demo build-farm workload against a database.")
  static final class Standalone implements Callable<Integer> {
    @Mixin BuildFarmMasterOptions options;

    @Override
    public Integer call() throws Exception {
      return create(options).run();
    }
  }
}
