package io.arbiter.cli;

import io.arbiter.ClusterStatus;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.spi.ClusterFacts;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Members, leases, services, owners and tokens, as the database sees them. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Show members, leases, services, owners and tokens.")
public final class StatusCommand implements Callable<Integer> {
  @Mixin DbOptions db;

  @Option(names = "--json", description = "Print one JSON object instead of tables.")
  boolean json;

  @Override
  public Integer call() {
    String url = db.url("status");
    try (JdbcClusterStore store =
        JdbcClusterStore.open(url, db.user(), db.password(), Duration.ofSeconds(3), false)) {
      store.initialize(); // checks the schema exists and is a version we understand
      ClusterStatus status = store.status();
      ClusterFacts facts = store.facts();
      java.util.Map<String, String> views =
          io.arbiter.jdbc.JdbcPeerDirectory.of(store, url).publishedViews();
      java.util.List<io.arbiter.events.ConsumerPosition> positions =
          io.arbiter.jdbc.JdbcEventStore.create(store.dataSource(), store.dialect()).positions();
      System.out.println(
          json
              ? StatusView.json(status, facts, views, positions)
              : StatusView.table(status, facts, views, positions, true));
    }
    return 0;
  }
}
