package io.arbiter.chaos.check;

import java.util.List;
import java.util.Map;

/**
 * What one checker found.
 *
 * @param figures measurements for the report (e.g. recovery percentiles), by JSON key
 */
public record CheckResult(String check, List<Violation> violations, Map<String, Object> figures) {
  public CheckResult {
    violations = List.copyOf(violations);
    figures = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(figures));
  }
}
