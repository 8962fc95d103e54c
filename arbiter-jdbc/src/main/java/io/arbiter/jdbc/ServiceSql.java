package io.arbiter.jdbc;

import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Service definitions on {@code arbiter_service}: registering services with their weights and
 * placement rules, and an operator's move. Owners and tokens are {@link ClaimSql}'s.
 */
final class ServiceSql {
  private final ChangeEpoch epoch;
  private final String insertIfAbsent;

  ServiceSql(Dialect d, ChangeEpoch epoch) {
    this.epoch = epoch;
    this.insertIfAbsent =
        d.insertIfAbsent(
            "arbiter_service",
            "name, token, weight, required_tag, pinned_to, anti_affinity, run_local, changed_epoch",
            "?, 0, ?, ?, ?, ?, ?, " + ChangeEpoch.CURRENT,
            "name");
  }

  /** Inserts the services that are missing and updates those whose rules changed. */
  void define(Connection c, Collection<ServiceSpec> services) throws SQLException {
    Map<String, ServiceSpec> existing = new HashMap<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, weight, required_tag, pinned_to, anti_affinity, run_local FROM"
                    + " arbiter_service");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        existing.put(rs.getString("name"), spec(rs));
      }
    }
    List<ServiceSpec> missing = new ArrayList<>();
    List<ServiceSpec> changed = new ArrayList<>();
    for (ServiceSpec spec : services) {
      ServiceSpec now = existing.get(spec.name());
      if (now == null) {
        missing.add(spec);
      } else if (!now.equals(spec)) {
        changed.add(spec);
      }
    }
    if (!changed.isEmpty()) {
      lockRows(c, changed.stream().map(ServiceSpec::name).toList());
    }
    if (!missing.isEmpty() || !changed.isEmpty()) {
      epoch.signal(c); // after the rows, before the change: see ChangeEpoch
    }
    if (!missing.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(insertIfAbsent)) {
        for (ServiceSpec spec : missing) {
          ps.setString(1, spec.name());
          bindRules(ps, 2, spec);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    if (!changed.isEmpty()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE arbiter_service SET weight = ?, required_tag = ?, pinned_to = ?,"
                  + " anti_affinity = ?, run_local = ?, changed_epoch = "
                  + ChangeEpoch.CURRENT
                  + " WHERE name = ?")) {
        for (ServiceSpec spec : changed) {
          bindRules(ps, 1, spec);
          ps.setString(6, spec.name());
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
  }

  /** Sets (or with an empty {@code member} clears) an operator's move of {@code service}. */
  boolean setMoveTarget(Connection c, String service, Optional<String> member) throws SQLException {
    lockRows(c, List.of(service));
    epoch.signal(c); // after the row, before the change: see ChangeEpoch
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE arbiter_service SET move_to = ?, changed_epoch = "
                + ChangeEpoch.CURRENT
                + " WHERE name = ?")) {
      ps.setString(1, member.orElse(null));
      ps.setString(2, service);
      return ps.executeUpdate() > 0;
    }
  }

  /** Locks rows this transaction will change, before the epoch row (see ChangeEpoch). */
  private static void lockRows(Connection c, List<String> names) throws SQLException {
    String in = String.join(", ", Collections.nCopies(names.size(), "?"));
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT name FROM arbiter_service WHERE name IN ("
                + in
                + ") ORDER BY name FOR UPDATE")) {
      for (int i = 0; i < names.size(); i++) {
        ps.setString(i + 1, names.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // the lock is the point
        }
      }
    }
  }

  private static void bindRules(PreparedStatement ps, int from, ServiceSpec spec)
      throws SQLException {
    Placement p = spec.placement();
    ps.setDouble(from, spec.weight());
    ps.setString(from + 1, p.requiredTag().orElse(null));
    ps.setString(from + 2, p.pinnedTo().orElse(null));
    ps.setString(from + 3, p.antiAffinityGroup().orElse(null));
    ps.setBoolean(from + 4, p.local());
  }

  /** Reads a service's definition from a row with its rule columns. */
  static ServiceSpec spec(ResultSet rs) throws SQLException {
    Placement p =
        new Placement(
            Optional.ofNullable(rs.getString("required_tag")),
            Optional.ofNullable(rs.getString("pinned_to")),
            Optional.ofNullable(rs.getString("anti_affinity")),
            rs.getBoolean("run_local"));
    return new ServiceSpec(rs.getString("name"), rs.getDouble("weight"), p);
  }
}
