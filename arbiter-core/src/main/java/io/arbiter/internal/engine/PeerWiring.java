package io.arbiter.internal.engine;

import io.arbiter.ArbiterException;
import io.arbiter.Cluster;
import io.arbiter.MemberId;
import io.arbiter.internal.peer.PeerLinkEngine;
import io.arbiter.peer.PeerDirectory;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.peer.PeerLinkListener;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.time.Ticker;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects a {@link Cluster} to its {@link PeerLinkEngine}: the link learns the members from the
 * heartbeats the master runs anyway (no statement of its own), carries this master's wake-ups to
 * its peers after every change it commits, and wakes the assignment thread when a peer says the
 * cluster changed. The link never lets anyone claim: that still takes the database's evidence.
 */
final class PeerWiring implements PeerDirectory {
  /** The topic of "the cluster changed in the database: look now". */
  static final String TOPIC_CHANGE = "arbiter.cluster.change";

  /** The topic of "an event was published: read the log now". */
  static final String TOPIC_EVENTS = "arbiter.events";

  private static final Logger log = LoggerFactory.getLogger(PeerWiring.class);

  private final PeerLinkEngine link;
  private final ClusterStore store;
  private volatile Snapshot snapshot = new Snapshot(0, List.of());

  PeerWiring(
      PeerLinkConfig config,
      String memberName,
      MemberLease lease,
      ClusterStore store,
      Ticker ticker,
      AssignmentLoop assignments) {
    this.store = store;
    this.link =
        new PeerLinkEngine(
            config,
            memberName,
            () -> Optional.ofNullable(lease.current() != null ? lease.current() : lease.previous()),
            this,
            ticker);
    link.onWake(TOPIC_CHANGE, topic -> assignments.onChangeNotified());
    link.onWake(PeerLinkEngine.TOPIC_PEER_LEAVING, topic -> assignments.onChangeNotified());
    link.onWake(PeerLinkEngine.TOPIC_LEASE_EXPIRY, topic -> assignments.onLeaseExpiryHint());
    link.addListener(
        new PeerLinkListener() {
          @Override
          public void onViewChanged(String compactView) {
            MemberId me = lease.current();
            if (me == null) {
              return;
            }
            try {
              store.publishPeerView(me, compactView);
            } catch (ArbiterException e) {
              log.debug("could not publish the peer view: {}", e.getMessage());
            }
          }
        });
  }

  void start() {
    link.start();
  }

  /** Carries event-log wake-ups both ways: after our publishes, and to our reader. */
  void connect(io.arbiter.events.EventLog eventLog) {
    eventLog.onPublished(() -> link.wake(TOPIC_EVENTS));
    link.onWake(TOPIC_EVENTS, topic -> eventLog.requestConfirmation());
  }

  String advertisedAddress() {
    return link.advertisedAddress();
  }

  PeerLinkEngine link() {
    return link;
  }

  /** Every heartbeat refreshes what the link knows of the members, at no extra cost. */
  void onHeartbeat(Heartbeat heartbeat, long sentNanos) {
    snapshot =
        new Snapshot(
            sentNanos,
            heartbeat.leases().stream()
                .map(
                    l ->
                        new Member(
                            l.name(),
                            l.incarnation(),
                            l.peerAddress(),
                            l.active(),
                            l.leftMillis(),
                            l.millisSinceRenewal()))
                .toList());
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Tells the peers to look at the database now (after a release, a claim, a leave). */
  void announceChange() {
    link.wake(TOPIC_CHANGE);
  }

  void leaving() {
    link.leaving(java.time.Duration.ofMillis(100));
  }

  void close() {
    link.close();
  }
}
