package io.arbiter.chaos;

import io.arbiter.InvalidConfigException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/** The kinds of fault the chaos harness injects, by the names `arbiter chaos --faults` takes. */
public enum FaultKind {
  KILL("kill", "kill -9 of a master, restarted after a short delay"),
  PAUSE("pause", "SIGSTOP of a master for longer than its lease, then SIGCONT"),
  LINK("link", "a master's link to the database cut (blackhole or reset), then healed"),
  DBRESTART("dbrestart", "the embedded PostgreSQL stopped and started again under load"),
  CLOCK("clock", "a master's wall clock stepped by seconds"),
  LOSTACK(
      "lostack",
      "a master's write commits reach the database but their acknowledgements are lost (its"
          + " connection is cut right after the COMMIT), while services are moved onto it"),
  READONLY(
      "readonly",
      "the PostgreSQL database turned read-only (sessions ended, new ones read-only), as a failover"
          + " onto a standby looks, then writable again"),
  FAILOVER(
      "failover",
      "the embedded PostgreSQL primary killed and its synchronous streaming replica promoted; every"
          + " connection goes to the new primary");

  private final String label;
  private final String description;

  FaultKind(String label, String description) {
    this.label = label;
    this.description = description;
  }

  public String label() {
    return label;
  }

  public String description() {
    return description;
  }

  /** True for faults aimed at one master (all but those on the database). */
  public boolean targetsMaster() {
    return this != DBRESTART && this != READONLY && this != FAILOVER;
  }

  public static FaultKind of(String label) {
    String wanted = label.trim().toLowerCase();
    return Arrays.stream(values())
        .filter(k -> k.label.equals(wanted))
        .findFirst()
        .orElseThrow(
            () ->
                new InvalidConfigException(
                    "--faults", label, "must be among " + allLabels() + " (or all)"));
  }

  /** Parses "kill,pause,link"; "all" stands for every kind. */
  public static Set<FaultKind> parseList(String labels) {
    Set<FaultKind> kinds = EnumSet.noneOf(FaultKind.class);
    for (String label : labels.split(",")) {
      if (label.trim().equalsIgnoreCase("all")) {
        kinds.addAll(EnumSet.allOf(FaultKind.class));
      } else if (!label.isBlank()) {
        kinds.add(of(label));
      }
    }
    return kinds;
  }

  public static String allLabels() {
    return Arrays.stream(values()).map(FaultKind::label).collect(Collectors.joining(","));
  }
}
