package io.arbiter.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.ClusterStatus;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders a {@link ClusterStatus} as tables for people, or as JSON for scripts. */
public final class StatusView {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

  private StatusView() {}

  public static String table(ClusterStatus status, boolean withServices) {
    StringBuilder out = new StringBuilder();
    out.append("database time ").append(time(status.databaseTime())).append(" UTC\n");
    Map<String, List<String>> byOwner = new LinkedHashMap<>();
    for (ClusterStatus.Service s : status.services()) {
      if (s.owner() != null) {
        byOwner.computeIfAbsent(s.owner(), k -> new ArrayList<>()).add(s.name() + "@" + s.token());
      }
    }
    out.append(
        String.format(
            "%-16s %4s %-8s %10s %8s  %s%n",
            "MEMBER", "INC", "STATE", "LEASE LEFT", "SERVICES", "SERVICE@TOKEN"));
    for (ClusterStatus.Member m : status.members()) {
      String id = m.name() + "#" + m.incarnation();
      String lease = m.state().equals("ACTIVE") ? m.leaseLeftMillis() + " ms" : "-";
      out.append(
          String.format(
              "%-16s %4d %-8s %10s %8d  %s%n",
              m.name(),
              m.incarnation(),
              m.state(),
              lease,
              m.servicesOwned(),
              String.join(" ", byOwner.getOrDefault(id, List.of()))));
    }
    List<String> unowned =
        status.services().stream()
            .filter(s -> s.owner() == null)
            .map(ClusterStatus.Service::name)
            .toList();
    if (!unowned.isEmpty()) {
      out.append("unowned: ").append(String.join(" ", unowned)).append('\n');
    }
    if (withServices) {
      out.append(
          String.format("%n%-28s %-20s %6s  %s%n", "SERVICE", "OWNER", "TOKEN", "GRANTED (UTC)"));
      for (ClusterStatus.Service s : status.services()) {
        out.append(
            String.format(
                "%-28s %-20s %6d  %s%n",
                s.name(),
                s.owner() == null ? "-" : s.owner(),
                s.token(),
                s.grantedAt() == null ? "-" : time(s.grantedAt())));
      }
    }
    return out.toString();
  }

  public static String json(ClusterStatus status) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("database_time", String.valueOf(status.databaseTime()));
    root.put(
        "members",
        status.members().stream()
            .map(
                m -> {
                  Map<String, Object> o = new LinkedHashMap<>();
                  o.put("name", m.name());
                  o.put("incarnation", m.incarnation());
                  o.put("state", m.state());
                  o.put("lease_left_ms", m.leaseLeftMillis());
                  o.put("joined_at", String.valueOf(m.joinedAt()));
                  o.put("host", m.host());
                  o.put("pid", m.pid());
                  o.put("services_owned", m.servicesOwned());
                  return o;
                })
            .collect(Collectors.toList()));
    root.put(
        "services",
        status.services().stream()
            .map(
                s -> {
                  Map<String, Object> o = new LinkedHashMap<>();
                  o.put("name", s.name());
                  o.put("owner", s.owner());
                  o.put("token", s.token());
                  o.put("granted_at", s.grantedAt() == null ? null : s.grantedAt().toString());
                  return o;
                })
            .collect(Collectors.toList()));
    try {
      return new ObjectMapper().writeValueAsString(root);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String time(Instant t) {
    return t == null ? "-" : TIME.format(t);
  }
}
