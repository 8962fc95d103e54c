package io.arbiter.peer;

/** Why the peer link rejected a frame (and closed the connection it came on). */
public enum RejectReason {
  /** The length prefix is larger than the maximum frame size. */
  OVERSIZED,
  /** The frame cannot be parsed: bad version, lengths that do not add up, bad UTF-8. */
  MALFORMED,
  /** The HMAC does not match: wrong secret, tampered bytes, or a frame from another connection. */
  BAD_MAC,
  /** The sequence number is not the next one on this connection: a replayed or reordered frame. */
  REPLAY,
  /** A message type this version does not know, or one not allowed at this point. */
  UNKNOWN_TYPE,
  /** The sender is not in the directory, is an older incarnation, or is not who was dialed. */
  UNKNOWN_SENDER,
  /** The handshake did not complete in time or answered the wrong challenge. */
  BAD_HANDSHAKE
}
