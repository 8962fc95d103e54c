package io.arbiter.internal.engine;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * Safety mechanisms that a chaos run switches off on purpose, to prove that its checkers catch what
 * they prevent (`arbiter chaos --plant-bug NAME`): a checker that has never caught anything proves
 * nothing. Not an API: the chaos run starts its master JVMs with the system property {@value
 * #PROPERTY} (comma-separated labels), read once when this class loads; nothing can change it
 * afterwards. The flags are constants, so the checks cost nothing on the hot path. A master logs an
 * ERROR at start when one is set.
 */
final class PlantedBugs {
  static final String PROPERTY = "arbiter.plantedBugs";

  private static final Set<String> KNOWN =
      Set.of(
          "skip-fence",
          "no-self-fence",
          "wall-clock-lease",
          "forget-lost-ack",
          "keep-failed-start");

  /** The labels set for this JVM, sorted. */
  static final Set<String> PLANTED = parse(System.getProperty(PROPERTY, ""));

  /** The master does not stop its services when its lease runs out on its own clock. */
  static final boolean NO_SELF_FENCE = PLANTED.contains("no-self-fence");

  /** The master measures its lease on its wall clock, which may jump, not the monotonic one. */
  static final boolean WALL_CLOCK_LEASE = PLANTED.contains("wall-clock-lease");

  /**
   * No round releases the rows this incarnation owns with nothing running them, so a claim whose
   * acknowledgement was lost leaves its service running nowhere.
   */
  static final boolean FORGET_LOST_ACK = PLANTED.contains("forget-lost-ack");

  /** A service whose start failed keeps its row: it runs nowhere, and no one else may claim it. */
  static final boolean KEEP_FAILED_START = PLANTED.contains("keep-failed-start");

  private PlantedBugs() {}

  private static Set<String> parse(String value) {
    Set<String> labels = new TreeSet<>();
    Arrays.stream(value.split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .forEach(labels::add);
    for (String label : labels) {
      if (!KNOWN.contains(label)) {
        throw new IllegalStateException(
            "system property "
                + PROPERTY
                + ": unknown planted bug '"
                + label
                + "'; known: "
                + KNOWN);
      }
    }
    return Set.copyOf(labels);
  }
}
