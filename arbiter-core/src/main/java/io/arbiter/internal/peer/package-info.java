/**
 * The peer link itself: the listener, outbound links, the frame codec and the classifier that
 * combines the link with the database. Not API; users see it through {@link
 * io.arbiter.peer.PeerLink}. See docs/peer-link.md.
 */
package io.arbiter.internal.peer;
