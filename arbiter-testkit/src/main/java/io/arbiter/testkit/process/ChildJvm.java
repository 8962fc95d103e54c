package io.arbiter.testkit.process;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How to start a child JVM (a master, the embedded PostgreSQL): from a runnable jar or from this
 * JVM's classpath with a main class, with leading arguments (a subcommand) and JVM options.
 *
 * <p>Every child gets {@code -D}{@value #PARENT_PID_PROPERTY}{@code =<this JVM's pid>}: the child
 * watches that process and stops cleanly by itself when it is gone, however it died (kill -9
 * included). Children run under setsid where there is one, so that a Ctrl-C in the terminal reaches
 * only the parent, which stops its children in order (masters first, the database last).
 */
public final class ChildJvm {
  /** The system property that carries the parent's pid to the child. */
  public static final String PARENT_PID_PROPERTY = "arbiter.parentPid";

  private static final Path SETSID = Path.of("/usr/bin/setsid");
  private static final List<String> DEFAULT_JVM_OPTIONS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final List<String> launch;
  private final List<String> leadingArgs;
  private final List<String> jvmOptions;

  private ChildJvm(List<String> launch, List<String> leadingArgs, List<String> jvmOptions) {
    this.launch = List.copyOf(launch);
    this.leadingArgs = List.copyOf(leadingArgs);
    this.jvmOptions = List.copyOf(jvmOptions);
  }

  /** {@code java -jar JAR LEADING_ARGS...}. */
  public static ChildJvm jar(Path jar, String... leadingArgs) {
    return new ChildJvm(
        List.of("-jar", jar.toAbsolutePath().toString()),
        List.of(leadingArgs),
        DEFAULT_JVM_OPTIONS);
  }

  /** {@code java -cp <this JVM's classpath> MAIN_CLASS LEADING_ARGS...}. */
  public static ChildJvm classpath(String mainClass, String... leadingArgs) {
    return new ChildJvm(
        List.of("-cp", System.getProperty("java.class.path"), mainClass),
        List.of(leadingArgs),
        DEFAULT_JVM_OPTIONS);
  }

  /**
   * The jar named {@code name} in the folder of the jar this class was loaded from, if this class
   * was loaded from a jar and that file exists (arbiter-master.jar beside arbiter.jar).
   */
  public static Optional<Path> besideRunningJar(String name) {
    try {
      var source = ChildJvm.class.getProtectionDomain().getCodeSource();
      if (source == null) {
        return Optional.empty();
      }
      Path running = Path.of(source.getLocation().toURI());
      if (!Files.isRegularFile(running) || running.getParent() == null) {
        return Optional.empty(); // a classes directory: not run from a jar
      }
      Path sibling = running.getParent().resolve(name);
      return Files.isRegularFile(sibling) ? Optional.of(sibling) : Optional.empty();
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The same JVM with {@code more} options after the default ones (a later -Xmx wins). */
  public ChildJvm withJvmOptions(List<String> more) {
    List<String> all = new ArrayList<>(jvmOptions);
    all.addAll(more);
    return new ChildJvm(launch, leadingArgs, all);
  }

  /** The full command line that runs this JVM with {@code args} after the leading arguments. */
  public List<String> command(List<String> args) {
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(SETSID)) {
      cmd.add(SETSID.toString());
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-D" + PARENT_PID_PROPERTY + "=" + ProcessHandle.current().pid());
    cmd.addAll(launch);
    cmd.addAll(leadingArgs);
    cmd.addAll(args);
    return cmd;
  }

  /** {@code java -jar JAR ARGS} or {@code java -cp <classpath> MAIN ARGS}, for people to read. */
  @Override
  public String toString() {
    List<String> shown = new ArrayList<>(List.of("java"));
    shown.addAll(launch);
    if (launch.get(0).equals("-cp")) {
      shown.set(2, "<classpath>");
    }
    shown.addAll(leadingArgs);
    return String.join(" ", shown);
  }
}
