package io.arbiter.cli.runtime;

import io.arbiter.examples.cli.DbOptions;
import io.arbiter.jdbc.JdbcArbiter;
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
    try (JdbcArbiter arbiter =
        JdbcArbiter.builder(url)
            .credentials(db.user(), db.password())
            .heartbeatPoolSize(0) // a tool renews no lease
            .build()) {
      arbiter.initializeSchema(); // checks the schema exists and is a version we understand
      StatusView.Snapshot snapshot = StatusView.Snapshot.read(arbiter);
      System.out.println(json ? StatusView.json(snapshot) : StatusView.table(snapshot, true));
    }
    return 0;
  }
}
