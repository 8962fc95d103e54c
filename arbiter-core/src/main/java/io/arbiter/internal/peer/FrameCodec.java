package io.arbiter.internal.peer;

import io.arbiter.peer.RejectReason;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The wire format of the peer link (see docs/peer-link.md):
 *
 * <pre>
 * int32  length of what follows
 * int8   version (1)
 * int8   type
 * int16  sender name length, then the name in UTF-8
 * int64  sender incarnation
 * int64  sequence number
 * int32  payload length, then the payload
 * byte[32] HMAC-SHA256(key, direction || every byte from version to the end of the payload)
 * </pre>
 *
 * HELLO frames are keyed with the cluster secret; every later frame with the connection's session
 * key, derived from both sides' random challenges, so a frame recorded on one connection is
 * worthless on any other. The direction byte stops a frame from being reflected back to its sender.
 */
final class FrameCodec {
  static final byte VERSION = 1;
  static final int MAC_BYTES = 32;
  static final int NONCE_BYTES = 16;
  static final byte DIALER_TO_ACCEPTOR = 0;
  static final byte ACCEPTOR_TO_DIALER = 1;
  static final int MAX_NAME_BYTES = 256;
  private static final int FIXED_BYTES = 1 + 1 + 2 + 8 + 8 + 4 + MAC_BYTES;
  private static final byte[] KEY_LABEL =
      "arbiter-peer-link-v1 session".getBytes(StandardCharsets.US_ASCII);

  private FrameCodec() {}

  /** Thrown for a frame that must be rejected; the connection is then closed. */
  static final class Rejected extends Exception {
    private final RejectReason reason;

    Rejected(RejectReason reason, String detail) {
      super(detail, null, false, false);
      this.reason = reason;
    }

    RejectReason reason() {
      return reason;
    }
  }

  /** A frame read off the wire whose MAC is not checked yet. */
  record Unverified(Frame frame, byte[] signed, byte[] mac) {}

  /** The bytes of {@code frame} on the wire, length prefix included. */
  static byte[] encode(Frame frame, byte[] key, byte direction) {
    byte[] name = frame.sender().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream(FIXED_BYTES + name.length + 64);
    try (DataOutputStream out = new DataOutputStream(body)) {
      out.writeByte(VERSION);
      out.writeByte(frame.type());
      out.writeShort(name.length);
      out.write(name);
      out.writeLong(frame.incarnation());
      out.writeLong(frame.seq());
      out.writeInt(frame.payload().length);
      out.write(frame.payload());
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    byte[] signed = body.toByteArray();
    byte[] mac = mac(key, direction, signed);
    ByteBuffer wire = ByteBuffer.allocate(4 + signed.length + MAC_BYTES);
    wire.putInt(signed.length + MAC_BYTES).put(signed).put(mac);
    return wire.array();
  }

  /**
   * Reads one frame and parses it, without checking its MAC.
   *
   * @throws EOFException at a clean end of stream before a frame starts
   * @throws Rejected for an oversized or malformed frame
   */
  static Unverified read(DataInputStream in, int maxFrameBytes) throws IOException, Rejected {
    int length = in.readInt();
    if (length > maxFrameBytes) {
      throw new Rejected(
          RejectReason.OVERSIZED, "frame of " + length + " bytes, limit " + maxFrameBytes);
    }
    if (length < FIXED_BYTES) {
      throw new Rejected(
          RejectReason.MALFORMED, "frame of " + length + " bytes is shorter than a header");
    }
    byte[] all = new byte[length];
    in.readFully(all);
    ByteBuffer b = ByteBuffer.wrap(all);
    byte version = b.get();
    if (version != VERSION) {
      throw new Rejected(RejectReason.MALFORMED, "protocol version " + version + ", expected 1");
    }
    byte type = b.get();
    int nameLength = Short.toUnsignedInt(b.getShort());
    if (nameLength == 0 || nameLength > MAX_NAME_BYTES || nameLength > b.remaining()) {
      throw new Rejected(RejectReason.MALFORMED, "sender name of " + nameLength + " bytes");
    }
    byte[] nameBytes = new byte[nameLength];
    b.get(nameBytes);
    if (b.remaining() < 8 + 8 + 4 + MAC_BYTES) {
      throw new Rejected(RejectReason.MALFORMED, "frame ends inside its header");
    }
    long incarnation = b.getLong();
    long seq = b.getLong();
    int payloadLength = b.getInt();
    if (payloadLength < 0 || payloadLength != b.remaining() - MAC_BYTES) {
      throw new Rejected(
          RejectReason.MALFORMED,
          "payload length " + payloadLength + " but " + (b.remaining() - MAC_BYTES) + " bytes");
    }
    byte[] payload = new byte[payloadLength];
    b.get(payload);
    byte[] mac = new byte[MAC_BYTES];
    b.get(mac);
    String sender = decodeUtf8(nameBytes, "sender name");
    byte[] signed = new byte[length - MAC_BYTES];
    System.arraycopy(all, 0, signed, 0, signed.length);
    return new Unverified(new Frame(type, sender, incarnation, seq, payload), signed, mac);
  }

  /** Checks the MAC in constant time; returns the frame if it holds. */
  static Frame verify(Unverified u, byte[] key, byte direction) throws Rejected {
    if (!MessageDigest.isEqual(mac(key, direction, u.signed()), u.mac())) {
      throw new Rejected(
          RejectReason.BAD_MAC,
          "MAC mismatch on " + u.frame() + " (the sender is unauthenticated)");
    }
    return u.frame();
  }

  /** The session key of one connection, from the two challenges. */
  static byte[] sessionKey(byte[] secret, byte[] dialerNonce, byte[] acceptorNonce) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(KEY_LABEL);
      mac.update(dialerNonce);
      mac.update(acceptorNonce);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
    }
  }

  static String decodeUtf8(byte[] bytes, String what) throws Rejected {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new Rejected(RejectReason.MALFORMED, what + " is not UTF-8");
    }
  }

  private static byte[] mac(byte[] key, byte direction, byte[] signed) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(direction);
      mac.update(signed);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
    }
  }
}
