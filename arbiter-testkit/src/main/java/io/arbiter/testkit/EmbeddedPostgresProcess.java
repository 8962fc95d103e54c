package io.arbiter.cli;

import io.arbiter.chaos.MasterProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The embedded PostgreSQL in a child process (see {@link EmbeddedDbCommand}). */
final class EmbeddedDatabaseProcess implements AutoCloseable {
  private final Process process;
  private final String url;

  private EmbeddedDatabaseProcess(Process process, String url) {
    this.process = process;
    this.url = url;
  }

  static EmbeddedDatabaseProcess start(Path dataDir, Path log) throws IOException {
    List<String> args = new ArrayList<>(List.of("embedded-db"));
    if (dataDir != null) {
      args.addAll(List.of("--data-dir", dataDir.toString()));
    }
    Process p =
        new ProcessBuilder(MasterProcess.arbiterCommand(args))
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("URL ")) {
        return new EmbeddedDatabaseProcess(p, line.substring(4).trim());
      }
    }
    p.destroyForcibly();
    throw new IOException("the embedded PostgreSQL did not start; see " + log);
  }

  String jdbcUrl() {
    return url;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
