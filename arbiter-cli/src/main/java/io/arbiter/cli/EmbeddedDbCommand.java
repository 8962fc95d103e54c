package io.arbiter.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the embedded PostgreSQL in a process of its own (used by the demo, so that Ctrl-C can stop
 * the masters first and the database last). Prints {@code URL <jdbc-url>} once it accepts
 * connections, then runs until SIGTERM.
 */
@Command(
    name = "embedded-db",
    hidden = true,
    description = "Run an embedded PostgreSQL until SIGTERM.")
public final class EmbeddedDbCommand implements Callable<Integer> {
  @Option(
      names = "--data-dir",
      description = "Keep the data here instead of a temporary directory.")
  Path dataDir;

  @Override
  public Integer call() throws Exception {
    EmbeddedDatabase db = EmbeddedDatabase.start(dataDir);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    db.close();
                  } catch (Exception e) {
                    System.err.println("embedded PostgreSQL: " + e.getMessage());
                  }
                  stopped.countDown();
                }));
    System.out.println("URL " + db.jdbcUrl());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
