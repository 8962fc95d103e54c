/**
 * The peer link between masters, as a user configures and reads it: {@link
 * io.arbiter.peer.PeerLinkConfig}, the read-only {@link io.arbiter.peer.PeerLink} view with a
 * {@link io.arbiter.peer.PeerView} per peer, and the {@link io.arbiter.peer.PeerDirectory} a
 * backend provides. The link itself is internal. See docs/peer-link.md.
 */
package io.arbiter.peer;
