package io.arbiter.chaos;

import io.arbiter.chaos.check.CheckResult;
import io.arbiter.chaos.check.LivenessChecker;
import io.arbiter.chaos.check.Violation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a chaos run did and what the checkers found: a summary for a person and, for scripts, one
 * JSON object (with at least {@code faults}, {@code violations}, {@code max_unowned_ms}, {@code
 * recovery_p99_ms} and {@code seed}).
 */
public final class ChaosReport {
  /** How many violations the summary shows in full; all are counted. */
  public static final int VIOLATIONS_SHOWN = 20;

  private final ChaosOptions options;
  private final String database;
  private final Path workDir;
  private final List<InjectedFault> faults;
  private final long acceptedWrites;
  private final List<CheckResult> results;

  public ChaosReport(
      ChaosOptions options,
      String database,
      Path workDir,
      List<InjectedFault> faults,
      long acceptedWrites,
      List<CheckResult> results) {
    this.options = options;
    this.database = database;
    this.workDir = workDir;
    this.faults = List.copyOf(faults);
    this.acceptedWrites = acceptedWrites;
    this.results = List.copyOf(results);
  }

  public List<Violation> violations() {
    List<Violation> all = new ArrayList<>();
    results.forEach(r -> all.addAll(r.violations()));
    return all;
  }

  /** The violations one checker found ("safety", "liveness", "self-fencing"). */
  public List<Violation> violations(String check) {
    return violations().stream().filter(v -> v.check().equals(check)).toList();
  }

  public boolean passed() {
    return violations().isEmpty();
  }

  public List<CheckResult> results() {
    return results;
  }

  /** A figure from whichever checker measured it, or null. */
  public Object figure(String key) {
    for (CheckResult r : results) {
      if (r.figures().containsKey(key)) {
        return r.figures().get(key);
      }
    }
    return null;
  }

  /** Faults injected (not skipped), by kind. */
  public Map<String, Integer> faultsByKind() {
    Map<FaultKind, Integer> byKind = new EnumMap<>(FaultKind.class);
    faults.stream()
        .filter(InjectedFault::injected)
        .forEach(f -> byKind.merge(f.kind(), 1, Integer::sum));
    Map<String, Integer> out = new LinkedHashMap<>();
    byKind.forEach((k, n) -> out.put(k.label(), n));
    return out;
  }

  public int faultCount() {
    return (int) faults.stream().filter(InjectedFault::injected).count();
  }

  /** The figures, as the JSON object `arbiter chaos --json` prints last. */
  public Map<String, Object> json() {
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("seed", options.seed());
    j.put("database", database);
    j.put("masters", options.masters());
    j.put("services", options.services());
    j.put("duration_s", options.duration().toSeconds());
    j.put("lease_ttl_ms", options.leaseTtl().toMillis());
    j.put("planted_bugs", options.plantedBugs());
    j.put("faults", faultCount());
    j.put("faults_by_kind", faultsByKind());
    j.put("faults_skipped", faults.size() - faultCount());
    j.put("acts", figure("acts"));
    j.put("acts_by_outcome", figure("acts_by_outcome"));
    j.put("accepted_writes", acceptedWrites);
    j.put("violations", violations().size());
    Map<String, Integer> byCheck = new LinkedHashMap<>();
    results.forEach(r -> byCheck.put(r.check(), r.violations().size()));
    j.put("violations_by_check", byCheck);
    j.put("max_unowned_ms", figure("max_unowned_ms"));
    j.put("recovery_p50_ms", figure("recovery_p50_ms"));
    j.put("recovery_p99_ms", figure("recovery_p99_ms"));
    j.put("recovery_max_ms", figure("recovery_max_ms"));
    j.put("recovery_by_kind", figure("recovery_by_kind"));
    Object unrecovered = figure("unrecovered");
    j.put("unrecovered", unrecovered instanceof List<?> l ? l.size() : 0);
    j.put("history_dir", workDir.toString());
    return j;
  }

  /** The summary for a person. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append("\n== chaos run: seed ")
        .append(options.seed())
        .append(", ")
        .append(options.masters())
        .append(" masters, ")
        .append(options.services())
        .append(" services, ")
        .append(options.duration().toSeconds())
        .append(" s, ")
        .append(database)
        .append(", planted bugs: ")
        .append(options.plantedBugs().isEmpty() ? "none" : String.join(", ", options.plantedBugs()))
        .append('\n');
    sb.append("faults:     ").append(faultCount()).append(' ').append(faultsByKind());
    if (faults.size() > faultCount()) {
      sb.append(" (").append(faults.size() - faultCount()).append(" skipped)");
    }
    sb.append('\n');
    sb.append("acts:       ")
        .append(figure("acts"))
        .append(' ')
        .append(figure("acts_by_outcome"))
        .append('\n');
    sb.append("accepted:   ").append(acceptedWrites).append(" writes\n");
    sb.append(
        String.format(
            "recovery:   p50 %s ms, p99 %s ms, max %s ms (target: p99 <= lease TTL + %d ms = %d ms)%n",
            figure("recovery_p50_ms"),
            figure("recovery_p99_ms"),
            figure("recovery_max_ms"),
            LivenessChecker.GRACE_MILLIS,
            options.leaseTtl().toMillis() + LivenessChecker.GRACE_MILLIS));
    if (figure("recovery_by_kind") instanceof Map<?, ?> byKind) {
      byKind.forEach((k, v) -> sb.append(String.format("            %-10s %s%n", k, v)));
    }
    if (figure("unrecovered") instanceof List<?> l && !l.isEmpty()) {
      sb.append("unrecovered: ").append(l).append('\n');
    }
    sb.append("longest gap: ")
        .append(figure("max_unowned_ms"))
        .append(" ms (")
        .append(figure("max_unowned_at"))
        .append(")\n");
    sb.append("history:    ").append(workDir).append('\n');
    for (CheckResult r : results) {
      sb.append(String.format("check %-13s %d violation(s)%n", r.check(), r.violations().size()));
    }
    List<Violation> all = violations();
    all.stream()
        .limit(VIOLATIONS_SHOWN)
        .forEach(
            v -> {
              sb.append("VIOLATION [")
                  .append(v.check())
                  .append("] ")
                  .append(v.summary())
                  .append('\n');
              v.excerpt().forEach(line -> sb.append("    ").append(line).append('\n'));
            });
    if (all.size() > VIOLATIONS_SHOWN) {
      sb.append("... and ").append(all.size() - VIOLATIONS_SHOWN).append(" more violations\n");
    }
    sb.append(
        passed()
            ? "result: PASS, no violations\n"
            : "result: FAIL, "
                + all.size()
                + " violation(s); reproduce with --seed "
                + options.seed()
                + "\n");
    return sb.toString();
  }
}
