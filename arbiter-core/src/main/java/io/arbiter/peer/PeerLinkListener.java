package io.arbiter.peer;

import io.arbiter.MemberId;
import java.time.Duration;
import java.util.Optional;

/**
 * Told about changes the peer link sees. Called on the link's event thread, one call at a time, in
 * order; a slow listener delays later events, never the link's pings.
 */
public interface PeerLinkListener {

  /**
   * A peer's classification changed.
   *
   * @param before the previous view, or null when the peer first appears
   * @param now the new view
   */
  default void onClassificationChanged(PeerView before, PeerView now) {}

  /**
   * The compact view ({@link PeerView#compact}) changed: the moment to write it to the database
   * (column peer_view) so that {@code arbiter status} shows it. Not called when nothing changed.
   */
  default void onViewChanged(String compactView) {}

  /**
   * The link to a peer broke without the peer saying it was leaving. A hint only: the peer may be
   * dead, restarting, paused or cut off; nothing may be claimed from it before the database says
   * its lease has run out. The link also wakes {@link PeerLink#TOPIC_LEASE_EXPIRY} handlers when
   * that lease should end.
   *
   * @param databaseLeaseLeft the peer's lease left by the last read of the database, if known
   */
  default void onPeerLost(MemberId peer, Optional<Duration> databaseLeaseLeft) {}
}
