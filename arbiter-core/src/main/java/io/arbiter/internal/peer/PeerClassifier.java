package io.arbiter.internal.peer;

import io.arbiter.MemberId;
import io.arbiter.peer.PeerClassification;
import io.arbiter.peer.PeerDirectory;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.peer.PeerView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Combines the two channels into one {@link PeerView} per peer: the last directory read (the
 * database's facts) and the last pong from each peer (the link's). Pure bookkeeping on a monotonic
 * clock given by the caller; not thread-safe (the link's timer thread owns it).
 */
final class PeerClassifier {
  /** The link's fact about one peer: when it last answered a ping, and the round trip. */
  record Heard(MemberId remote, long atNanos, long roundTripNanos) {}

  /** One classification change. {@code before} is null for a peer seen for the first time. */
  record Change(PeerView before, PeerView now) {}

  private final PeerLinkConfig config;
  private final String memberName;
  private final Map<String, PeerView> current = new TreeMap<>();
  private final Map<String, Long> sinceNanos = new HashMap<>();
  private final Map<String, Long> firstSeenNanos = new HashMap<>();

  PeerClassifier(PeerLinkConfig config, String memberName) {
    this.config = config;
    this.memberName = memberName;
  }

  /**
   * Classifies every peer in {@code s} at monotonic time {@code now}.
   *
   * @param heard the last pong per peer name
   * @param leavingIncarnation the incarnation each peer announced LEAVING for, by name
   * @return the classification changes since the last call; {@link #views()} has the new views
   */
  List<Change> classify(
      PeerDirectory.Snapshot s,
      long now,
      Map<String, Heard> heard,
      Map<String, Long> leavingIncarnation) {
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(now - s.takenAtNanos());
    long staleAfterMillis = config.databaseStaleAfter().toMillis();
    boolean databaseFresh = elapsedMillis <= staleAfterMillis;
    long linkTimeoutNanos = config.linkTimeout().toNanos();
    Map<String, PeerView> next = new TreeMap<>();
    Set<String> seen = new HashSet<>();
    List<Change> changes = new ArrayList<>();
    for (PeerDirectory.Member m : s.members()) {
      if (m.name().equals(memberName)) {
        continue;
      }
      // "Not renewing" needs evidence: the facts as read, never extrapolated, since whether the
      // peer renewed after the read is unknown. A read older than the bound gives UNKNOWN.
      boolean renewing =
          m.active() && m.leaseLeftMillis() > 0 && m.millisSinceRenewal() <= staleAfterMillis;
      Heard h = heard.get(m.name());
      boolean aliveOnLink = h != null && now - h.atNanos() <= linkTimeoutNanos;
      Long leftAt = leavingIncarnation.get(m.name());
      if (leftAt != null && leftAt == m.incarnation()) {
        // It announced a clean leave: alive while its row says so, dead as soon as the row is
        // marked stopped, never "partitioned" in between.
        aliveOnLink = renewing;
      }
      long sinceRenewal = m.millisSinceRenewal() + elapsedMillis;
      if (!aliveOnLink && !renewing && sinceRenewal > config.forgetAfter().toMillis()) {
        continue; // long gone: keep the view short
      }
      seen.add(m.name());
      long firstSeen = firstSeenNanos.computeIfAbsent(m.name(), n -> now);
      if (h == null && m.peerAddress().isPresent() && now - firstSeen < 2 * linkTimeoutNanos) {
        // Just appeared: give the dial and the first ping time before judging the link, so that
        // a start does not WARN of a partition.
        continue;
      }
      PeerClassification cls =
          PeerClassification.of(
              m.peerAddress().isPresent(), aliveOnLink, databaseFresh ? renewing : null);
      // A peer that rejoined answers with its new incarnation before the next read shows it.
      MemberId peer =
          new MemberId(
              m.name(),
              aliveOnLink ? Math.max(m.incarnation(), h.remote().incarnation()) : m.incarnation());
      PeerView before = current.get(m.name());
      if (before == null || before.classification() != cls || !before.peer().equals(peer)) {
        sinceNanos.put(m.name(), now);
      }
      PeerView v =
          new PeerView(
              peer,
              m.peerAddress(),
              cls,
              h == null ? Optional.empty() : Optional.of(Duration.ofNanos(now - h.atNanos())),
              h == null ? Optional.empty() : Optional.of(Duration.ofNanos(h.roundTripNanos())),
              databaseFresh
                  ? Optional.of(Duration.ofMillis(m.leaseLeftMillis() - elapsedMillis))
                  : Optional.empty(),
              Duration.ofNanos(now - sinceNanos.get(m.name())));
      next.put(m.name(), v);
      if (before == null || before.classification() != cls) {
        changes.add(new Change(before, v));
      }
    }
    sinceNanos.keySet().retainAll(next.keySet());
    firstSeenNanos.keySet().retainAll(seen);
    current.clear();
    current.putAll(next);
    return changes;
  }

  /** The views of the last {@link #classify} call, sorted by name. */
  List<PeerView> views() {
    return List.copyOf(current.values());
  }
}
