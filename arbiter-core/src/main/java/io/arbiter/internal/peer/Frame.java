package io.arbiter.internal.peer;

import java.util.Arrays;

/**
 * One message on the peer link, before or after its MAC is checked.
 *
 * @param type the message type's code ({@link Type#code()}); unknown codes survive decoding so that
 *     they are rejected only after the MAC proves who sent them
 * @param sender the sender's member name
 * @param incarnation the sender's incarnation
 * @param seq 0 for HELLO, then 1, 2, ... per direction of one connection
 * @param payload type-specific bytes
 */
record Frame(byte type, String sender, long incarnation, long seq, byte[] payload) {

  /** The message types. Codes are part of the wire format: never renumber them. */
  enum Type {
    /** Opens a connection: the dialer's challenge, or the acceptor's answer and its own. */
    HELLO(1),
    /** A liveness probe; payload: 8 bytes echoed in the PONG. */
    PING(2),
    /** The answer to a PING, with its payload. */
    PONG(3),
    /** A hint to look at the database now; payload: the topic in UTF-8. */
    WAKE(4),
    /** The sender is leaving cleanly (it will mark itself stopped in the database next). */
    LEAVING(5);

    private final byte code;

    Type(int code) {
      this.code = (byte) code;
    }

    byte code() {
      return code;
    }

    static Type of(byte code) {
      for (Type t : values()) {
        if (t.code == code) {
          return t;
        }
      }
      return null;
    }
  }

  Frame(Type type, String sender, long incarnation, long seq, byte[] payload) {
    this(type.code(), sender, incarnation, seq, payload);
  }

  /** The type, or null if this version does not know the code. */
  Type knownType() {
    return Type.of(type);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Frame f
        && f.type == type
        && f.sender.equals(sender)
        && f.incarnation == incarnation
        && f.seq == seq
        && Arrays.equals(f.payload, payload);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(payload) * 31 + Long.hashCode(seq);
  }

  @Override
  public String toString() {
    Type t = knownType();
    return (t == null ? "type " + type : t.name())
        + " from "
        + sender
        + "#"
        + incarnation
        + " seq "
        + seq
        + " ("
        + payload.length
        + " bytes)";
  }
}
