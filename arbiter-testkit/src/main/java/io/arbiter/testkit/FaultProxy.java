package io.arbiter.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy on loopback between a master and its database, for cutting the link on purpose.
 *
 * <ul>
 *   <li>{@link Mode#OPEN}: bytes flow.
 *   <li>{@link Mode#BLACKHOLE}: connections stay up but nothing is delivered (and new connections
 *       are accepted but never answered): calls hang until the driver's socket timeout, as on a
 *       network partition. Healing delivers what was held, as TCP retransmission would.
 *   <li>{@link Mode#RESET}: every connection is reset now, and new ones are reset at once.
 * </ul>
 *
 * <p>Apart from the mode, it can lose acknowledgements: {@link #cutAfterCommits}, {@link
 * #cutAfterWriteCommits} and {@link #cutAfterClientBytes} cut a connection right after forwarding a
 * COMMIT (or a given number of bytes) to the server. The server gets the whole COMMIT and then an
 * orderly end of the connection, so the transaction commits; the client's side is reset, so the
 * client hears an error and cannot know that it committed. To find the COMMITs the proxy follows
 * the client's side of the PostgreSQL or MariaDB protocol ({@link ClientStreamScanner}).
 */
public final class FaultProxy implements AutoCloseable {
  public enum Mode {
    OPEN,
    BLACKHOLE,
    RESET
  }

  private static final Pattern HOST_PORT =
      Pattern.compile("^(jdbc:[a-z]+://)([^/:]+)(:(\\d+))?(/.*)$");

  /** How long a cut connection's server side may take to end after the COMMIT reached it. */
  private static final int CUT_DRAIN_TIMEOUT_MILLIS = 10_000;

  private final ServerSocket server;
  private final String jdbcUrl;
  private final String upstreamHost;
  private volatile int upstreamPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private volatile Mode mode = Mode.OPEN;
  private volatile boolean closed;

  // Guarded by this: how many more cuts of each kind are armed (0: none; -1 for bytes: none).
  private int commitCutsLeft;
  private int writeCommitCutsLeft;
  private long clientBytesBeforeCut = -1;
  private final AtomicInteger cuts = new AtomicInteger();

  private FaultProxy(String jdbcUrl, String upstreamHost, int upstreamPort) throws IOException {
    this.jdbcUrl = jdbcUrl;
    this.upstreamHost = upstreamHost;
    this.upstreamPort = upstreamPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "fault-proxy-" + server.getLocalPort());
    accept.setDaemon(true);
    accept.start();
  }

  /** A proxy in front of the database of {@code jdbcUrl}; see {@link #jdbcUrl(String)}. */
  public static FaultProxy forUrl(String jdbcUrl) throws IOException {
    Matcher m = HOST_PORT.matcher(jdbcUrl);
    if (!m.matches()) {
      throw new IllegalArgumentException("cannot find host and port in " + jdbcUrl);
    }
    int port = m.group(4) != null ? Integer.parseInt(m.group(4)) : defaultPort(jdbcUrl);
    return new FaultProxy(jdbcUrl, m.group(2), port);
  }

  private static int defaultPort(String url) {
    return url.startsWith("jdbc:postgresql:") ? 5432 : 3306;
  }

  /** {@code jdbcUrl} with its host and port replaced by this proxy's. */
  public String jdbcUrl(String jdbcUrl) {
    Matcher m = HOST_PORT.matcher(jdbcUrl);
    if (!m.matches()) {
      throw new IllegalArgumentException("cannot find host and port in " + jdbcUrl);
    }
    return m.group(1) + "127.0.0.1:" + server.getLocalPort() + m.group(5);
  }

  public int port() {
    return server.getLocalPort();
  }

  public Mode mode() {
    return mode;
  }

  public void mode(Mode newMode) {
    synchronized (gate) {
      mode = newMode;
      gate.notifyAll();
    }
    if (newMode == Mode.RESET) {
      sockets.forEach(FaultProxy::reset);
      sockets.clear();
    }
  }

  /**
   * Points the proxy at another port of the same host (a promoted replica after a failover): every
   * open connection is reset, and new ones go to {@code port}, as a client that follows a moved
   * address (a virtual IP, a DNS name, a pooler) would see.
   */
  public void retarget(int port) {
    upstreamPort = port;
    sockets.forEach(FaultProxy::reset);
    sockets.clear();
  }

  /**
   * Cuts a connection right after each of the next {@code n} COMMITs it forwards (of any
   * transaction), until {@link #stopCutting()}.
   */
  public synchronized void cutAfterCommits(int n) {
    commitCutsLeft = requireNonNegative(n);
  }

  /**
   * Cuts a connection right after each of the next {@code n} COMMITs of transactions that wrote (an
   * INSERT, UPDATE, DELETE or the like since the transaction began), until {@link #stopCutting()}.
   * {@link Integer#MAX_VALUE}: every one.
   */
  public synchronized void cutAfterWriteCommits(int n) {
    writeCommitCutsLeft = requireNonNegative(n);
  }

  /**
   * Cuts the connection that carries the {@code n}-th next byte from a client to the server, right
   * after forwarding it: a connection lost at an arbitrary point of the protocol.
   */
  public synchronized void cutAfterClientBytes(long n) {
    if (n < 1) {
      throw new IllegalArgumentException("the byte count must be at least 1: " + n);
    }
    clientBytesBeforeCut = n;
  }

  /** Disarms every cut armed by the methods above; connections already cut stay cut. */
  public synchronized void stopCutting() {
    commitCutsLeft = 0;
    writeCommitCutsLeft = 0;
    clientBytesBeforeCut = -1;
  }

  /** How many connections the cuts above have ended since the proxy started. */
  public int cuts() {
    return cuts.get();
  }

  private static int requireNonNegative(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("the count must not be negative: " + n);
    }
    return n;
  }

  /** Whether to cut at a commit point just found; takes one armed cut if so. */
  private synchronized boolean takeCommitCut(boolean wrote) {
    if (commitCutsLeft > 0) {
      commitCutsLeft--;
      return true;
    }
    if (wrote && writeCommitCutsLeft > 0) {
      if (writeCommitCutsLeft != Integer.MAX_VALUE) {
        writeCommitCutsLeft--;
      }
      return true;
    }
    return false;
  }

  /** Of {@code n} bytes about to be forwarded, how many to forward before a cut; -1: no cut. */
  private synchronized int takeByteCut(int n) {
    if (clientBytesBeforeCut < 0 || clientBytesBeforeCut > n) {
      if (clientBytesBeforeCut > 0) {
        clientBytesBeforeCut -= n;
      }
      return -1;
    }
    int forward = (int) clientBytesBeforeCut;
    clientBytesBeforeCut = -1;
    return forward;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        if (mode == Mode.RESET) {
          reset(client);
          continue;
        }
        Socket upstream = new Socket();
        try {
          upstream.connect(new InetSocketAddress(upstreamHost, upstreamPort), 5000);
        } catch (IOException e) {
          reset(client); // the database is down: refuse at once, as a direct connection would
          close(upstream);
          continue;
        }
        sockets.add(client);
        sockets.add(upstream);
        Link link = new Link(client, upstream);
        clientToServer(link);
        serverToClient(link);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  /** The two sockets of one proxied connection, and whether a cut has ended it. */
  private static final class Link {
    final Socket client;
    final Socket upstream;
    volatile boolean cut;

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }
  }

  private void clientToServer(Link link) {
    ClientStreamScanner scanner = ClientStreamScanner.forUrl(jdbcUrl);
    daemon(
        () -> {
          byte[] buf = new byte[16384];
          // Not closed by a try-with-resources: closing a stream closes its socket, and after a
          // cut the server's side must stay open until the server has read the COMMIT.
          try {
            InputStream in = link.client.getInputStream();
            OutputStream out = link.upstream.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
              if (!awaitPassable()) {
                break;
              }
              int byteCut = takeByteCut(n);
              int end = byteCut >= 0 ? byteCut : n;
              int cutAt = byteCut >= 0 ? byteCut : -1;
              int from = 0;
              while (cutAt < 0 && from < end) {
                int commit = scanner.nextCommit(buf, from, end);
                if (commit < 0) {
                  break;
                }
                if (takeCommitCut(scanner.lastCommitWrote())) {
                  cutAt = commit;
                }
                from = commit;
              }
              if (cutAt >= 0) {
                // Before the COMMIT goes out: from now on the server's answers reach no one.
                link.cut = true;
              }
              out.write(buf, 0, cutAt >= 0 ? cutAt : n);
              out.flush();
              if (cutAt >= 0) {
                cut(link);
                return;
              }
            }
          } catch (IOException | InterruptedException e) {
            // the link was reset or closed
          } finally {
            if (!link.cut) {
              closeBoth(link);
            }
          }
        });
  }

  private void serverToClient(Link link) {
    daemon(
        () -> {
          byte[] buf = new byte[16384];
          try (InputStream in = link.upstream.getInputStream();
              OutputStream out = link.client.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
              if (link.cut) {
                continue; // drained: the server's answer to a cut COMMIT reaches no one
              }
              if (!awaitPassable()) {
                break;
              }
              out.write(buf, 0, n);
              out.flush();
            }
          } catch (IOException | InterruptedException e) {
            // the link was reset or closed
          } finally {
            closeBoth(link);
          }
        });
  }

  /**
   * Ends a connection just after a COMMIT went through: the client's side is reset at once (it
   * hears an error), while the server's side gets an orderly end after the bytes already sent, so
   * the server reads the whole COMMIT and commits before it sees the connection go. A reset there
   * could make the server drop the COMMIT unread. The server's answer is drained until it closes.
   */
  private void cut(Link link) {
    link.cut = true;
    cuts.incrementAndGet();
    reset(link.client);
    sockets.remove(link.client);
    try {
      link.upstream.setSoTimeout(CUT_DRAIN_TIMEOUT_MILLIS);
      link.upstream.shutdownOutput();
    } catch (IOException e) {
      close(link.upstream);
    }
  }

  private void closeBoth(Link link) {
    close(link.client);
    close(link.upstream);
    sockets.remove(link.client);
    sockets.remove(link.upstream);
  }

  private static void daemon(Runnable body) {
    Thread t = new Thread(body, "fault-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  /** Waits while the link is a blackhole; false if it has been reset. */
  private boolean awaitPassable() throws InterruptedException {
    synchronized (gate) {
      while (mode == Mode.BLACKHOLE && !closed) {
        gate.wait(100);
      }
      return mode == Mode.OPEN && !closed;
    }
  }

  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0); // close with RST, not FIN
    } catch (IOException ignored) {
      // already closed
    }
    close(s);
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() {
    closed = true;
    mode(Mode.RESET);
    close(server);
  }

  private static void close(ServerSocket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
