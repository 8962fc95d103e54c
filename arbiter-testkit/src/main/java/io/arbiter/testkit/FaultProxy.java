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
 */
public final class FaultProxy implements AutoCloseable {
  public enum Mode {
    OPEN,
    BLACKHOLE,
    RESET
  }

  private static final Pattern HOST_PORT =
      Pattern.compile("^(jdbc:[a-z]+://)([^/:]+)(:(\\d+))?(/.*)$");

  private final ServerSocket server;
  private final String upstreamHost;
  private volatile int upstreamPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private volatile Mode mode = Mode.OPEN;
  private volatile boolean closed;

  private FaultProxy(String upstreamHost, int upstreamPort) throws IOException {
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
    return new FaultProxy(m.group(2), port);
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
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  if (!awaitPassable()) {
                    break;
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // the link was reset or closed
              } finally {
                close(from);
                close(to);
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "fault-proxy-pump");
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
