package io.arbiter.balance;

import java.util.Map;
import java.util.Set;

/**
 * Who should run what.
 *
 * @param owners service → the one master that should run it
 * @param local local service → every master that should run it
 * @param unplaceable service → why no live master can run it (shown by `arbiter status`)
 */
public record Assignment(
    Map<String, String> owners, Map<String, Set<String>> local, Map<String, String> unplaceable) {

  /** Total weight placed on each master (local services not counted). */
  public Map<String, Double> loads(Map<String, ServiceSpec> services) {
    Map<String, Double> loads = new java.util.TreeMap<>();
    owners.forEach((s, m) -> loads.merge(m, services.get(s).weight(), Double::sum));
    return loads;
  }
}
