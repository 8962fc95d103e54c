package io.arbiter.peer;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a master's peer link knows, for status pages, metrics and tests: its view of every other
 * master (alive, cut off from the database, partitioned from this master, dead) and its counters. A
 * master runs the link when it is built with {@link PeerLinkConfig}; {@code Cluster.peerLink()}
 * hands this view of it out. See docs/peer-link.md.
 */
public interface PeerLink {
  /** The "host:port" this master's link listens on, as stored in its member row. */
  String advertisedAddress();

  /** The view of every peer, sorted by name, as of the last tick (at most a ping interval ago). */
  List<PeerView> views();

  /** The view of one peer, if it is in the view. */
  Optional<PeerView> view(String peerName);

  /** {@link PeerView#compact} of {@link #views()}, for the peer_view column and status. */
  String compactView();

  /** Frames rejected since start, per reason. */
  Map<RejectReason, Long> rejections();

  /** All frames rejected since start. */
  long rejectedTotal();

  /** Wake-ups received from peers since start. */
  long wakesReceived();
}
