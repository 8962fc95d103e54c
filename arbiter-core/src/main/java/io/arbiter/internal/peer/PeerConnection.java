package io.arbiter.internal.peer;

import io.arbiter.MemberId;
import io.arbiter.peer.RejectReason;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * One authenticated TCP connection between two masters, after its handshake:
 *
 * <ol>
 *   <li>the dialer sends HELLO (keyed with the cluster secret) carrying a random challenge and the
 *       name of the member it means to reach;
 *   <li>the acceptor checks the MAC and that the sender is in its directory, and answers HELLO with
 *       its own challenge and the dialer's echoed, so the dialer knows the answer is fresh;
 *   <li>both derive the session key from the two challenges; every later frame is keyed with it,
 *       numbered 1, 2, ... in each direction, and rejected unless its number is the next one.
 * </ol>
 *
 * A recorded HELLO replayed to an acceptor gets an answer but nothing more: without the secret the
 * replayer cannot produce a frame under the new session key, and the acceptor acts on nothing
 * before such a frame.
 */
final class PeerConnection implements Closeable {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final byte[] key;
  private final byte sendDirection;
  private final byte receiveDirection;
  private final MemberId self;
  private final MemberId remote;
  private final int maxFrameBytes;
  private long sentSeq;
  private long receivedSeq;

  private PeerConnection(
      Socket socket,
      DataInputStream in,
      OutputStream out,
      byte[] key,
      boolean dialer,
      MemberId self,
      MemberId remote,
      int maxFrameBytes) {
    this.socket = socket;
    this.in = in;
    this.out = out;
    this.key = key;
    this.sendDirection = dialer ? FrameCodec.DIALER_TO_ACCEPTOR : FrameCodec.ACCEPTOR_TO_DIALER;
    this.receiveDirection = dialer ? FrameCodec.ACCEPTOR_TO_DIALER : FrameCodec.DIALER_TO_ACCEPTOR;
    this.self = self;
    this.remote = remote;
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Connects to {@code peerName} at {@code address} and runs the dialer's half of the handshake.
   */
  static PeerConnection dial(
      InetSocketAddress address,
      String peerName,
      MemberId self,
      byte[] secret,
      int timeoutMillis,
      int maxFrameBytes)
      throws IOException, FrameCodec.Rejected {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(address, timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      OutputStream out = socket.getOutputStream();
      byte[] challenge = nonce();
      byte[] target = peerName.getBytes(StandardCharsets.UTF_8);
      byte[] hello =
          ByteBuffer.allocate(challenge.length + target.length).put(challenge).put(target).array();
      out.write(
          FrameCodec.encode(
              new Frame(Frame.Type.HELLO, self.name(), self.incarnation(), 0, hello),
              secret,
              FrameCodec.DIALER_TO_ACCEPTOR));
      out.flush();
      Frame answer =
          FrameCodec.verify(
              FrameCodec.read(in, maxFrameBytes), secret, FrameCodec.ACCEPTOR_TO_DIALER);
      if (answer.knownType() != Frame.Type.HELLO || answer.seq() != 0) {
        throw new FrameCodec.Rejected(RejectReason.BAD_HANDSHAKE, "expected HELLO, got " + answer);
      }
      byte[] p = answer.payload();
      if (p.length != 2 * FrameCodec.NONCE_BYTES
          || !Arrays.equals(Arrays.copyOfRange(p, FrameCodec.NONCE_BYTES, p.length), challenge)) {
        throw new FrameCodec.Rejected(
            RejectReason.BAD_HANDSHAKE, "HELLO does not answer this connection's challenge");
      }
      if (!answer.sender().equals(peerName)) {
        // A stale advertised address now used by another master.
        throw new FrameCodec.Rejected(
            RejectReason.UNKNOWN_SENDER,
            "dialed " + peerName + " at " + address + " but " + answer.sender() + " answered");
      }
      byte[] key =
          FrameCodec.sessionKey(secret, challenge, Arrays.copyOf(p, FrameCodec.NONCE_BYTES));
      MemberId remote = new MemberId(answer.sender(), answer.incarnation());
      return new PeerConnection(socket, in, out, key, true, self, remote, maxFrameBytes);
    } catch (IOException | FrameCodec.Rejected | RuntimeException e) {
      closeQuietly(socket);
      throw e;
    }
  }

  /**
   * Runs the acceptor's half of the handshake on a fresh socket.
   *
   * @param knownSender whether the directory knows the sender (name and incarnation)
   */
  static PeerConnection accept(
      Socket socket,
      MemberId self,
      byte[] secret,
      int timeoutMillis,
      int maxFrameBytes,
      Predicate<MemberId> knownSender)
      throws IOException, FrameCodec.Rejected {
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(timeoutMillis);
    DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    OutputStream out = socket.getOutputStream();
    // No HELLO within the timeout is an IOException, not a rejection: a stalled network looks
    // the same, and nothing was received to reject.
    Frame hello =
        FrameCodec.verify(
            FrameCodec.read(in, maxFrameBytes), secret, FrameCodec.DIALER_TO_ACCEPTOR);
    if (hello.knownType() != Frame.Type.HELLO || hello.seq() != 0) {
      throw new FrameCodec.Rejected(RejectReason.BAD_HANDSHAKE, "expected HELLO, got " + hello);
    }
    byte[] p = hello.payload();
    if (p.length < FrameCodec.NONCE_BYTES) {
      throw new FrameCodec.Rejected(RejectReason.MALFORMED, "HELLO without a challenge");
    }
    String target =
        FrameCodec.decodeUtf8(Arrays.copyOfRange(p, FrameCodec.NONCE_BYTES, p.length), "target");
    MemberId remote = new MemberId(hello.sender(), hello.incarnation());
    if (!target.equals(self.name())) {
      throw new FrameCodec.Rejected(
          RejectReason.UNKNOWN_SENDER, remote + " dialed " + target + ", this is " + self.name());
    }
    if (!knownSender.test(remote)) {
      throw new FrameCodec.Rejected(
          RejectReason.UNKNOWN_SENDER, remote + " is not a member in the directory");
    }
    byte[] dialerChallenge = Arrays.copyOf(p, FrameCodec.NONCE_BYTES);
    byte[] challenge = nonce();
    byte[] answer =
        ByteBuffer.allocate(2 * FrameCodec.NONCE_BYTES).put(challenge).put(dialerChallenge).array();
    out.write(
        FrameCodec.encode(
            new Frame(Frame.Type.HELLO, self.name(), self.incarnation(), 0, answer),
            secret,
            FrameCodec.ACCEPTOR_TO_DIALER));
    out.flush();
    byte[] key = FrameCodec.sessionKey(secret, dialerChallenge, challenge);
    return new PeerConnection(socket, in, out, key, false, self, remote, maxFrameBytes);
  }

  MemberId remote() {
    return remote;
  }

  MemberId self() {
    return self;
  }

  String remoteAddress() {
    return String.valueOf(socket.getRemoteSocketAddress());
  }

  void readTimeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  /** Sends one frame; frames are numbered in the order this method is entered. */
  synchronized void send(Frame.Type type, byte[] payload) throws IOException {
    sentSeq++;
    out.write(
        FrameCodec.encode(
            new Frame(type, self.name(), self.incarnation(), sentSeq, payload),
            key,
            sendDirection));
    out.flush();
  }

  /** Reads, authenticates and checks the next frame. Only one thread may call this. */
  Frame receive() throws IOException, FrameCodec.Rejected {
    Frame f = FrameCodec.verify(FrameCodec.read(in, maxFrameBytes), key, receiveDirection);
    if (f.seq() != receivedSeq + 1) {
      throw new FrameCodec.Rejected(
          RejectReason.REPLAY, "sequence " + f.seq() + ", expected " + (receivedSeq + 1));
    }
    receivedSeq = f.seq();
    if (!f.sender().equals(remote.name()) || f.incarnation() != remote.incarnation()) {
      throw new FrameCodec.Rejected(
          RejectReason.UNKNOWN_SENDER, f + " on a connection opened by " + remote);
    }
    Frame.Type type = f.knownType();
    if (type == null || type == Frame.Type.HELLO) {
      throw new FrameCodec.Rejected(RejectReason.UNKNOWN_TYPE, "unexpected " + f);
    }
    return f;
  }

  @Override
  public void close() {
    closeQuietly(socket);
  }

  /** Closes with a reset (no lingering), as a crashed process's kernel would. */
  void abort() {
    try {
      socket.setSoLinger(true, 0);
    } catch (IOException ignored) {
      // already closed
    }
    close();
  }

  private static byte[] nonce() {
    byte[] n = new byte[FrameCodec.NONCE_BYTES];
    RANDOM.nextBytes(n);
    return n;
  }

  static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
