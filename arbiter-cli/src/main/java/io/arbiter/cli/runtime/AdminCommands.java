package io.arbiter.cli.runtime;

import io.arbiter.ClusterAdmin;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.spi.ClusterFacts;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code arbiter drain | undrain | move}: operations on a running cluster. Each writes an intention
 * into the database and, unless {@code --no-wait}, waits until the masters have carried it out.
 */
public final class AdminCommands {
  private AdminCommands() {}

  /** Options every admin command shares. */
  abstract static class AdminCommand implements Callable<Integer> {
    @Mixin DbOptions db;

    @Option(
        names = "--wait",
        defaultValue = "60s",
        converter = DurationConverter.class,
        description =
            "How long to wait for the masters to carry it out (default ${DEFAULT-VALUE}).")
    Duration wait;

    @Option(names = "--no-wait", description = "Return once the request is written.")
    boolean noWait;

    @Override
    public Integer call() throws Exception {
      String url = db.url(name());
      try (JdbcArbiter arbiter =
          JdbcArbiter.builder(url)
              .credentials(db.user(), db.password())
              .heartbeatPoolSize(0) // a tool renews no lease
              .build()) {
        arbiter.initializeSchema(); // checks the schema exists and is a version we understand
        JdbcClusterStore store = arbiter.clusterStore();
        ClusterAdmin admin = new ClusterAdmin(store);
        long start = System.nanoTime();
        request(admin);
        if (noWait) {
          System.out.println(done() + " (requested; not waiting)");
          return 0;
        }
        if (!admin.awaitBalanced(wait)) {
          System.err.println(
              "arbiter "
                  + name()
                  + ": requested, but the masters had not carried it out after "
                  + wait.toMillis()
                  + " ms; see `arbiter status`");
          return 1;
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println(done() + " in " + ms + " ms; " + summary(store.facts()));
        return 0;
      }
    }

    abstract String name();

    abstract void request(ClusterAdmin admin);

    abstract String done();

    String summary(ClusterFacts facts) {
      return facts.services().size() + " services balanced";
    }
  }

  @Command(
      name = "drain",
      mixinStandardHelpOptions = true,
      description = {
        "Move every service off a master and give it nothing more, with a clean handoff per"
            + " service (no lease expiry). The master keeps running, empty, so it can be stopped or"
            + " upgraded. It stays drained across restarts until `arbiter undrain`."
      })
  public static final class Drain extends AdminCommand {
    @Parameters(index = "0", paramLabel = "MASTER", description = "Name of the master.")
    String member;

    @Override
    String name() {
      return "drain";
    }

    @Override
    void request(ClusterAdmin admin) {
      admin.drain(member);
    }

    @Override
    String done() {
      return member + " drained";
    }

    @Override
    String summary(ClusterFacts facts) {
      long left =
          facts.services().stream()
              .filter(s -> s.owner().map(o -> o.name().equals(member)).orElse(false))
              .count();
      return left + " service(s) left on " + member;
    }
  }

  @Command(
      name = "undrain",
      mixinStandardHelpOptions = true,
      description = "Let the balancer give services to a drained master again.")
  public static final class Undrain extends AdminCommand {
    @Parameters(index = "0", paramLabel = "MASTER", description = "Name of the master.")
    String member;

    @Override
    String name() {
      return "undrain";
    }

    @Override
    void request(ClusterAdmin admin) {
      admin.undrain(member);
    }

    @Override
    String done() {
      return member + " undrained";
    }
  }

  @Command(
      name = "move",
      mixinStandardHelpOptions = true,
      description = {
        "Run a service on a given master (within the service's rules). The request stays while"
            + " that master is live and not draining; `--to auto` gives the service back to the"
            + " balancer."
      })
  public static final class Move extends AdminCommand {
    @Parameters(index = "0", paramLabel = "SERVICE", description = "Name of the service.")
    String service;

    @Option(
        names = "--to",
        required = true,
        paramLabel = "MASTER",
        description = "Target master, or 'auto' for the balancer's choice.")
    String to;

    @Override
    String name() {
      return "move";
    }

    @Override
    void request(ClusterAdmin admin) {
      if (to.equals("auto")) {
        admin.unmove(service);
      } else {
        admin.move(service, to);
      }
    }

    @Override
    String done() {
      return service + (to.equals("auto") ? " back to the balancer's choice" : " moved to " + to);
    }

    @Override
    String summary(ClusterFacts facts) {
      return facts.services().stream()
          .filter(s -> s.name().equals(service))
          .findFirst()
          .map(
              s -> "held by " + s.owner().map(Object::toString).orElse("nobody") + " @" + s.token())
          .orElse("");
    }
  }
}
