package io.arbiter.cli.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.ClusterStatus;
import io.arbiter.balance.Assignment;
import io.arbiter.events.ConsumerPosition;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.spi.ClusterFacts;
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

  /**
   * Everything `arbiter status` shows, read from the database.
   *
   * @param facts the balancer's inputs: capacities, tags, drains, local and unplaceable services,
   *     pending moves
   * @param peerViews member name → how it sees its peers on the peer link
   * @param eventPositions how far each master has read the cluster event log
   */
  public record Snapshot(
      ClusterStatus status,
      ClusterFacts facts,
      Map<String, String> peerViews,
      List<ConsumerPosition> eventPositions) {
    public static Snapshot read(JdbcArbiter arbiter) {
      JdbcClusterStore store = arbiter.clusterStore();
      return new Snapshot(
          store.status(),
          store.facts(),
          arbiter.peerDirectory().publishedViews(),
          arbiter.eventStore().positions());
    }
  }

  public static String table(Snapshot snapshot, boolean withServices) {
    ClusterStatus status = snapshot.status();
    ClusterFacts facts = snapshot.facts();
    Map<String, String> peerViews = snapshot.peerViews();
    List<ConsumerPosition> eventPositions = snapshot.eventPositions();
    StringBuilder out = new StringBuilder();
    Map<String, ClusterFacts.Member> live = new LinkedHashMap<>();
    facts.members().forEach(m -> live.put(m.name() + "#" + m.incarnation(), m));
    out.append("database time ").append(time(status.databaseTime())).append(" UTC\n");
    Map<String, List<String>> byOwner = new LinkedHashMap<>();
    for (ClusterStatus.Service s : status.services()) {
      if (s.owner() != null) {
        byOwner.computeIfAbsent(s.owner(), k -> new ArrayList<>()).add(s.name() + "@" + s.token());
      }
    }
    out.append(
        String.format(
            "%-16s %4s %-8s %10s %8s %-14s  %s%n",
            "MEMBER", "INC", "STATE", "LEASE LEFT", "SERVICES", "BALANCE", "SERVICE@TOKEN"));
    for (ClusterStatus.Member m : status.members()) {
      String id = m.name() + "#" + m.incarnation();
      String lease = m.state().equals("ACTIVE") ? m.leaseLeftMillis() + " ms" : "-";
      ClusterFacts.Member f = live.get(id);
      String balance =
          f == null
              ? "-"
              : (f.spec().draining() ? "DRAINING " : "")
                  + "cap "
                  + fmt(f.spec().capacity())
                  + (f.spec().tags().isEmpty() ? "" : " " + String.join(",", f.spec().tags()));
      List<String> owned = byOwner.getOrDefault(id, List.of());
      out.append(
          String.format(
              "%-16s %4d %-8s %10s %8d %-14s  %s%n",
              m.name(),
              m.incarnation(),
              m.state(),
              lease,
              m.servicesOwned(),
              balance,
              owned.size() <= 40
                  ? String.join(" ", owned)
                  : String.join(" ", owned.subList(0, 40)) + " ..."));
    }
    Assignment a = facts.assignment();
    a.local()
        .forEach(
            (service, where) ->
                out.append("local ")
                    .append(service)
                    .append(" on: ")
                    .append(String.join(" ", where))
                    .append('\n'));
    a.unplaceable()
        .forEach(
            (service, why) ->
                out.append("UNPLACEABLE ").append(service).append(": ").append(why).append('\n'));
    long pending = pendingMoves(facts, a);
    if (pending > 0) {
      out.append("moving: ")
          .append(pending)
          .append(" service(s) not yet on the master the balancer gives them to\n");
    }
    java.util.Set<String> local = a.local().keySet();
    peerViews.forEach(
        (member, view) -> {
          boolean liveMember = facts.members().stream().anyMatch(m -> m.name().equals(member));
          if (view != null && !view.isBlank() && liveMember) {
            out.append("peer link: ").append(member).append(" sees ").append(view).append('\n');
          }
        });
    if (!eventPositions.isEmpty()) {
      out.append("event log: head ").append(eventPositions.get(0).headSeq()).append(';');
      for (ConsumerPosition p : eventPositions) {
        out.append(' ')
            .append(p.member())
            .append(" at ")
            .append(p.deliveredSeq())
            .append(" (lag ")
            .append(p.lag())
            .append(", saved ")
            .append(time(p.updatedAt()))
            .append(')');
      }
      out.append('\n');
    }
    List<String> unowned =
        status.services().stream()
            .filter(s -> s.owner() == null && !local.contains(s.name()))
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

  public static String json(Snapshot snapshot) {
    ClusterStatus status = snapshot.status();
    ClusterFacts facts = snapshot.facts();
    Map<String, String> peerViews = snapshot.peerViews();
    List<ConsumerPosition> eventPositions = snapshot.eventPositions();
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, ClusterFacts.Member> live = new LinkedHashMap<>();
    facts.members().forEach(m -> live.put(m.name() + "#" + m.incarnation(), m));
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
                  ClusterFacts.Member f = live.get(m.name() + "#" + m.incarnation());
                  if (f != null) {
                    o.put("capacity", f.spec().capacity());
                    o.put("tags", f.spec().tags());
                    o.put("draining", f.spec().draining());
                  }
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
    Assignment a = facts.assignment();
    root.put("local", a.local());
    root.put("unplaceable", a.unplaceable());
    root.put("pending_moves", pendingMoves(facts, a));
    root.put("peer_views", peerViews);
    root.put(
        "event_log",
        eventPositions.stream()
            .map(
                p -> {
                  Map<String, Object> o = new LinkedHashMap<>();
                  o.put("member", p.member());
                  o.put("delivered_seq", p.deliveredSeq());
                  o.put("head_seq", p.headSeq());
                  o.put("lag", p.lag());
                  o.put("updated_at", String.valueOf(p.updatedAt()));
                  return o;
                })
            .collect(Collectors.toList()));
    try {
      return new ObjectMapper().writeValueAsString(root);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Services held by a master other than the one the balancer gives them to. */
  static long pendingMoves(ClusterFacts facts, Assignment a) {
    return facts.services().stream()
        .filter(
            s -> {
              String want = a.owners().get(s.name());
              return want != null && s.owner().map(o -> !o.name().equals(want)).orElse(true);
            })
        .count();
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  private static String time(Instant t) {
    return t == null ? "-" : TIME.format(t);
  }
}
