package io.arbiter.internal.peer;

import io.arbiter.MemberId;
import io.arbiter.peer.RejectReason;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * This master's connection to one peer: dials, authenticates, sends pings, wake-ups and LEAVING
 * from a queue, and reads the peer's pongs. Redials with a capped backoff until closed. Sending
 * never blocks the caller: when the queue is full the frame is dropped (all of them are hints).
 */
final class OutboundLink {
  static final int QUEUE_CAPACITY = 256;
  private static final long MIN_BACKOFF_MILLIS = 50;

  private final PeerLinkEngine link;
  private final String peer;
  private final String address;
  private final MemberId self;
  private final BlockingQueue<Outgoing> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
  private final Thread writer;
  private volatile PeerConnection connection;
  private volatile boolean closed;

  private record Outgoing(Frame.Type type, byte[] payload) {}

  OutboundLink(PeerLinkEngine link, String peer, String address, MemberId self) {
    this.link = link;
    this.peer = peer;
    this.address = address;
    this.self = self;
    this.writer = new Thread(this::run, "arbiter-peer-out-" + self.name() + "->" + peer);
    this.writer.setDaemon(true);
  }

  void start() {
    writer.start();
  }

  String address() {
    return address;
  }

  MemberId self() {
    return self;
  }

  boolean connected() {
    return connection != null;
  }

  /** Queues a frame if connected; false if it was dropped. */
  boolean send(Frame.Type type, byte[] payload) {
    return connection != null && queue.offer(new Outgoing(type, payload));
  }

  void ping(long nanos) {
    send(Frame.Type.PING, ByteBuffer.allocate(8).putLong(nanos).array());
  }

  /** Waits until the queue is empty (sent) or the timeout passes. */
  void drain(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (!queue.isEmpty() && System.nanoTime() - deadline < 0) {
      Thread.sleep(5);
    }
  }

  void close() {
    closed = true;
    writer.interrupt();
    PeerConnection c = connection;
    if (c != null) {
      c.close();
    }
  }

  void join(long millis) throws InterruptedException {
    writer.join(millis);
  }

  private void run() {
    long backoff = MIN_BACKOFF_MILLIS;
    long maxBackoff = link.config().linkTimeout().toMillis();
    while (!closed) {
      PeerConnection c;
      try {
        c =
            PeerConnection.dial(
                parse(address),
                peer,
                self,
                link.secret(),
                (int) link.config().linkTimeout().toMillis(),
                link.config().maxFrameBytes());
      } catch (FrameCodec.Rejected e) {
        link.reject(e.reason(), address, e.getMessage());
        backoff = sleep(backoff, maxBackoff);
        continue;
      } catch (IOException | RuntimeException e) {
        link.debug("cannot reach {} at {}: {}", peer, address, e.toString());
        backoff = sleep(backoff, maxBackoff);
        continue;
      }
      backoff = MIN_BACKOFF_MILLIS;
      queue.clear(); // frames queued for a previous connection are stale hints
      connection = c;
      link.connected(this, c);
      Thread reader = new Thread(() -> read(c), "arbiter-peer-in-" + self.name() + "<-" + peer);
      reader.setDaemon(true);
      reader.start();
      try {
        while (!closed && reader.isAlive()) {
          Outgoing o = queue.poll(100, TimeUnit.MILLISECONDS);
          if (o != null) {
            c.send(o.type(), o.payload());
          }
        }
      } catch (IOException e) {
        link.debug("lost the link to {}: {}", peer, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        connection = null;
        c.close();
      }
      try {
        reader.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!closed) {
        link.disconnected(this, c);
      }
    }
  }

  /** Reads the peer's answers; a connection quiet for three link timeouts is dropped. */
  private void read(PeerConnection c) {
    try {
      c.readTimeout((int) link.config().linkTimeout().toMillis() * 3);
      while (!closed) {
        Frame f = c.receive();
        if (f.knownType() == Frame.Type.PONG && f.payload().length == 8) {
          link.pong(c.remote(), ByteBuffer.wrap(f.payload()).getLong());
        } else {
          link.reject(RejectReason.UNKNOWN_TYPE, c.remoteAddress(), "unexpected " + f);
          break;
        }
      }
    } catch (FrameCodec.Rejected e) {
      link.reject(e.reason(), c.remoteAddress(), e.getMessage());
    } catch (IOException e) {
      if (!closed) {
        link.debug("link to {} ended: {}", peer, e.toString());
      }
    } finally {
      c.close();
    }
  }

  private long sleep(long backoff, long maxBackoff) {
    try {
      Thread.sleep(backoff);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
    return Math.min(maxBackoff, backoff * 2);
  }

  /** Parses "host:port" (the port after the last colon). */
  static InetSocketAddress parse(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("peer address '" + address + "' is not host:port");
    }
    return new InetSocketAddress(
        address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }
}
