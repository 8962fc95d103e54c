package io.arbiter.examples.buildfarm;

import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of one build-farm master, as a picocli mixin: {@code arbiter master} and the chaos
 * harness's masters take the same ones.
 */
public final class BuildFarmMasterOptions {
  @Mixin DbOptions db = new DbOptions();

  @Option(names = "--name", required = true, description = "Unique name of this master.")
  String name;

  @Option(
      names = "--services",
      defaultValue = "12",
      description = "Clustered services to run (default ${DEFAULT-VALUE}).")
  int services = 12;

  @Option(names = "--service-prefix", defaultValue = "", description = "Prefix for service names.")
  String servicePrefix = "";

  @Option(
      names = "--capacity",
      defaultValue = "1",
      description = "This master's share of the services relative to the others (default 1).")
  double capacity = 1;

  @Option(
      names = "--tags",
      split = ",",
      description = "What this master offers (e.g. web,builder), for services that require a tag.")
  List<String> tags = new ArrayList<>();

  @Option(
      names = "--local-service",
      paramLabel = "NAME[:TAG]",
      description =
          "A local service (the demo's force scheduler): it runs on every master with TAG at once."
              + " Repeatable.")
  List<String> localServices = new ArrayList<>();

  @Option(
      names = "--web-port",
      defaultValue = "-1",
      description =
          "Serve the demo web app (login, shared sessions) on 127.0.0.1 at this port; 0 picks a"
              + " free port, -1 (default) serves none.")
  int webPort = -1;

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
  String peerHost = "127.0.0.1";

  @Option(
      names = "--tick",
      defaultValue = "250ms",
      converter = DurationConverter.class,
      description = "How often each service writes a fenced tick (default ${DEFAULT-VALUE}).")
  Duration tick = Duration.ofMillis(250);

  @Option(
      names = "--lease-ttl",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Lease TTL, judged by the database clock (default ${DEFAULT-VALUE}).")
  Duration leaseTtl = Duration.ofSeconds(3);

  @Option(
      names = "--read-only-startup-limit",
      defaultValue = "1m",
      converter = DurationConverter.class,
      description =
          "At the first start only: how long to wait for a read-only database (a hot standby, a"
              + " demoted primary) to become writable before exiting (default ${DEFAULT-VALUE})."
              + " Once joined, a read-only database is retried like an unreachable one.")
  Duration readOnlyStartupLimit = Duration.ofMinutes(1);

  @Option(
      names = "--callback-timeout",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "How long a service's start or stop callback may take before the master goes on without"
              + " it (default ${DEFAULT-VALUE}).")
  Duration callbackTimeout = io.arbiter.ClusterConfig.DEFAULT_CALLBACK_TIMEOUT;

  @Option(
      names = "--work",
      defaultValue = "50ms",
      converter = DurationConverter.class,
      description =
          "Work each service does between deciding to write and writing (default ${DEFAULT-VALUE}).")
  Duration work = Duration.ofMillis(50);

  public DbOptions db() {
    return db;
  }

  public String name() {
    return name;
  }

  public Duration leaseTtl() {
    return leaseTtl;
  }
}
