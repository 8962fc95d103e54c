package io.arbiter;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Safety mechanisms that can be switched off on purpose, to prove that the chaos checker catches
 * what they prevent (`arbiter chaos --plant-bug NAME`). A checker that has never caught anything
 * proves nothing. Never plant one in production: the master logs an ERROR when one is set.
 */
public final class PlantedBugs {
  /** The mechanisms that can be broken. */
  public enum Bug {
    /** JdbcFence accepts any token: a stale master's writes get through. */
    SKIP_FENCE("skip-fence"),
    /** The master does not stop its services when its lease runs out on its own clock. */
    NO_SELF_FENCE("no-self-fence"),
    /** The master measures its lease on its wall clock, which may jump, not the monotonic one. */
    WALL_CLOCK_LEASE("wall-clock-lease");

    private final String label;

    Bug(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    public static Bug of(String label) {
      return Arrays.stream(values())
          .filter(b -> b.label.equals(label))
          .findFirst()
          .orElseThrow(
              () ->
                  new InvalidConfigException(
                      "--plant-bug",
                      label,
                      "must be one of "
                          + Arrays.stream(values())
                              .map(Bug::label)
                              .collect(Collectors.joining(", "))));
    }
  }

  private static volatile Set<Bug> planted = EnumSet.noneOf(Bug.class);

  private PlantedBugs() {}

  /** Plants these bugs in this JVM (an empty set removes them). */
  public static void plant(Set<Bug> bugs) {
    planted = bugs.isEmpty() ? EnumSet.noneOf(Bug.class) : EnumSet.copyOf(bugs);
  }

  public static boolean isPlanted(Bug bug) {
    return planted.contains(bug);
  }

  public static Set<Bug> planted() {
    return Set.copyOf(planted);
  }
}
