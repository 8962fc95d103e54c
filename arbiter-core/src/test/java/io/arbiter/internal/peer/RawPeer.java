package io.arbiter.internal.peer;

import io.arbiter.MemberId;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A hand-driven dialer for attack tests: does the handshake with whatever secret it is given, then
 * writes frames (or raw bytes) exactly as told, so that tests can tamper, replay and send garbage.
 */
final class RawPeer implements AutoCloseable {
  final Socket socket;
  final DataInputStream in;
  final OutputStream out;
  final MemberId self;
  byte[] sessionKey;
  long seq;

  RawPeer(int port, MemberId self) throws IOException {
    this.socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    socket.setSoTimeout(3000);
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    this.out = socket.getOutputStream();
    this.self = self;
  }

  /** Does the dialer's handshake with {@code secret}; returns the HELLO bytes it sent. */
  byte[] handshake(String target, byte[] secret) throws Exception {
    byte[] challenge = new byte[FrameCodec.NONCE_BYTES];
    new SecureRandom().nextBytes(challenge);
    byte[] t = target.getBytes(StandardCharsets.UTF_8);
    byte[] hello = ByteBuffer.allocate(challenge.length + t.length).put(challenge).put(t).array();
    byte[] wire =
        FrameCodec.encode(
            new Frame(Frame.Type.HELLO, self.name(), self.incarnation(), 0, hello),
            secret,
            FrameCodec.DIALER_TO_ACCEPTOR);
    raw(wire);
    Frame answer =
        FrameCodec.verify(FrameCodec.read(in, 1 << 20), secret, FrameCodec.ACCEPTOR_TO_DIALER);
    sessionKey =
        FrameCodec.sessionKey(
            secret, challenge, Arrays.copyOf(answer.payload(), FrameCodec.NONCE_BYTES));
    return wire;
  }

  /** The wire bytes of the next frame under the session key (the sequence number advances). */
  byte[] next(Frame.Type type, byte[] payload) {
    return next(type.code(), payload);
  }

  byte[] next(byte type, byte[] payload) {
    seq++;
    return FrameCodec.encode(
        new Frame(type, self.name(), self.incarnation(), seq, payload),
        sessionKey,
        FrameCodec.DIALER_TO_ACCEPTOR);
  }

  void raw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** True if the other side closed the connection (EOF or reset) within the read timeout. */
  boolean closedByPeer() {
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
