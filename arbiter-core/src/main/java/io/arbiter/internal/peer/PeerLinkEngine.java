package io.arbiter.internal.peer;

import io.arbiter.ArbiterException;
import io.arbiter.InvalidConfigException;
import io.arbiter.MemberId;
import io.arbiter.peer.PeerClassification;
import io.arbiter.peer.PeerDirectory;
import io.arbiter.peer.PeerLink;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.peer.PeerLinkListener;
import io.arbiter.peer.PeerView;
import io.arbiter.peer.RejectReason;
import io.arbiter.time.Ticker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second channel between masters: an authenticated TCP link to every peer, beside the database.
 * It carries wake-ups (hints that other masters should look at the database now) and pings, and
 * combines what it hears with what the database says into a {@link PeerClassification} per peer.
 * Nothing it carries is ever a reason to act without the database: a claim is still decided by the
 * database alone (see docs/peer-link.md for the failover argument).
 *
 * <p>Each master listens on one port and dials every peer it finds in the {@link PeerDirectory}
 * that advertises an address, so between two masters there are two connections, one dialed by each.
 * A master sends its pings, wake-ups and LEAVING on the connection it dialed, and answers pings on
 * the ones it accepted. "Alive on the link" means a pong came back within the link timeout: a round
 * trip through the peer's listener, so a one-way cut shows up too.
 *
 * <p>Threads: one acceptor, one reader per accepted connection, a writer and a reader per dialed
 * peer, one timer for pings and classification, one for reading the directory (which may block on
 * the database without delaying pings), and one for listener and wake-up callbacks.
 */
public final class PeerLinkEngine implements PeerLink, AutoCloseable {
  /**
   * A local-only topic: woken with a peer's name when the database lease of a peer whose link broke
   * should have run out. The moment to let the claim loop look at the database; it decides.
   */
  public static final String TOPIC_LEASE_EXPIRY = "arbiter.peer.lease-expiry";

  /** A local-only topic: woken with a peer's name when it announces a clean leave. */
  public static final String TOPIC_PEER_LEAVING = "arbiter.peer.leaving";

  /** The longest wake-up topic, in UTF-8 bytes. */
  public static final int MAX_TOPIC_BYTES = 255;

  private static final Logger log = LoggerFactory.getLogger(PeerLinkEngine.class);

  /** Accepted connections served at once; each master needs one per peer. */
  private static final int MAX_INBOUND_CONNECTIONS = 256;

  private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Added to a lease's end before the expiry wake-up, for the database's own rounding. */
  private static final long EXPIRY_WAKE_MARGIN_MILLIS = 20;

  private final PeerLinkConfig config;
  private final String memberName;
  private final Supplier<Optional<MemberId>> identity;
  private final PeerDirectory directory;
  private final Ticker ticker;
  private final byte[] secret;

  private final Map<String, OutboundLink> outbound = new ConcurrentHashMap<>();
  private final Set<PeerConnection> inbound = ConcurrentHashMap.newKeySet();
  private final Map<String, PeerClassifier.Heard> heard = new ConcurrentHashMap<>();
  private final Map<String, Long> leavingIncarnation = new ConcurrentHashMap<>();
  private final Map<String, CopyOnWriteArrayList<Consumer<String>>> handlers =
      new ConcurrentHashMap<>();
  private final List<PeerLinkListener> listeners = new CopyOnWriteArrayList<>();
  private final Map<RejectReason, AtomicLong> rejections = new EnumMap<>(RejectReason.class);
  private final Map<RejectReason, Long> lastWarnNanos = new ConcurrentHashMap<>();
  private final AtomicLong wakesReceived = new AtomicLong();
  private final AtomicLong wakesSent = new AtomicLong();

  /** Touched by the timer thread only. */
  private final PeerClassifier classifier;

  private final ScheduledExecutorService timer;
  private final ScheduledExecutorService directoryReader;
  private final ExecutorService events;

  private final Semaphore serving = new Semaphore(MAX_INBOUND_CONNECTIONS);
  private volatile long lastFloodWarnNanos = System.nanoTime() - WARN_EVERY_NANOS - 1;
  private volatile PeerDirectory.Snapshot snapshot;
  private volatile List<PeerView> views = List.of();
  private volatile String compactView = "";
  private volatile boolean directoryFailing;
  private volatile boolean closed;
  private ServerSocket server;
  private Thread acceptor;
  private String advertisedAddress;

  /**
   * A link for the master {@code memberName}; nothing runs before {@link #start()}.
   *
   * @param identity this master's current incarnation; while it is fenced, the incarnation it last
   *     held (so that its peers can see it is cut off from the database); empty before it first
   *     joins
   * @param directory the members table, read from the link's own thread
   */
  public PeerLinkEngine(
      PeerLinkConfig config,
      String memberName,
      Supplier<Optional<MemberId>> identity,
      PeerDirectory directory) {
    this(config, memberName, identity, directory, Ticker.system());
  }

  /** As above, with the monotonic clock the directory's snapshots are stamped with. */
  public PeerLinkEngine(
      PeerLinkConfig config,
      String memberName,
      Supplier<Optional<MemberId>> identity,
      PeerDirectory directory,
      Ticker ticker) {
    this.config = Objects.requireNonNull(config, "config");
    this.memberName = Objects.requireNonNull(memberName, "memberName");
    this.identity = Objects.requireNonNull(identity, "identity");
    this.directory = Objects.requireNonNull(directory, "directory");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.secret = config.secret();
    this.classifier = new PeerClassifier(config, memberName);
    for (RejectReason r : RejectReason.values()) {
      rejections.put(r, new AtomicLong());
    }
    this.timer = Executors.newSingleThreadScheduledExecutor(threads("arbiter-peer-timer"));
    this.directoryReader =
        Executors.newSingleThreadScheduledExecutor(threads("arbiter-peer-directory"));
    this.events = Executors.newSingleThreadExecutor(threads("arbiter-peer-events"));
  }

  /**
   * Binds the listening socket and starts pinging. Returns at once; the advertised address is known
   * when this returns.
   *
   * @throws ArbiterException if the address cannot be bound
   */
  public synchronized void start() {
    if (server != null) {
      throw new IllegalStateException("peer link of " + memberName + " already started");
    }
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(config.bindHost(), config.port()), 50);
    } catch (IOException e) {
      throw new InvalidConfigException(
          "peerLink.port",
          config.bindHost() + ":" + config.port(),
          "the peer link of "
              + memberName
              + " cannot listen there ("
              + e.getMessage()
              + "); choose another peerLink.port or peerLink.bindHost");
    }
    advertisedAddress = advertisedHost() + ":" + server.getLocalPort();
    log.info(
        "peer link of {} listening on {}, advertised as {}: {}",
        memberName,
        server.getLocalSocketAddress(),
        advertisedAddress,
        config);
    acceptor = new Thread(this::acceptLoop, "arbiter-peer-accept-" + memberName);
    acceptor.setDaemon(true);
    acceptor.start();
    long dirMillis = config.directoryInterval().toMillis();
    directoryReader.scheduleWithFixedDelay(this::readDirectory, 0, dirMillis, MILLIS);
    long pingMillis = config.pingInterval().toMillis();
    timer.scheduleAtFixedRate(this::tick, pingMillis, pingMillis, MILLIS);
  }

  /** The "host:port" to store in the member row (column peer_address); set by {@link #start()}. */
  @Override
  public synchronized String advertisedAddress() {
    if (advertisedAddress == null) {
      throw new IllegalStateException("peer link of " + memberName + " not started");
    }
    return advertisedAddress;
  }

  /** The port bound, for tests and logs. */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("peer link of " + memberName + " not started");
    }
    return server.getLocalPort();
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Sends a wake-up for {@code topic} to every connected peer, without waiting. A hint: peers that
   * are not connected, or whose queue is full, do not get it, and must find the news in the
   * database by their own polling.
   *
   * @return the number of peers it was queued for
   */
  public int wake(String topic) {
    byte[] bytes = topicBytes(topic);
    int queued = 0;
    for (OutboundLink o : outbound.values()) {
      if (o.send(Frame.Type.WAKE, bytes)) {
        queued++;
      }
    }
    wakesSent.addAndGet(queued);
    return queued;
  }

  /**
   * Calls {@code handler} with the sender's name whenever a peer wakes {@code topic} (and, for the
   * local topics {@link #TOPIC_LEASE_EXPIRY} and {@link #TOPIC_PEER_LEAVING}, with the peer's
   * name). Handlers run on the link's event thread and must be quick: typically they wake a loop
   * that reads the database.
   *
   * @return closing it removes the handler
   */
  public AutoCloseable onWake(String topic, Consumer<String> handler) {
    topicBytes(topic);
    Objects.requireNonNull(handler, "handler");
    handlers.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(handler);
    return () -> handlers.getOrDefault(topic, new CopyOnWriteArrayList<>()).remove(handler);
  }

  public void addListener(PeerLinkListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** The view of every peer, sorted by name, as of the last tick (at most a ping interval ago). */
  @Override
  public List<PeerView> views() {
    return views;
  }

  /** The view of one peer, if it is in the view. */
  @Override
  public Optional<PeerView> view(String peerName) {
    return views.stream().filter(v -> v.peer().name().equals(peerName)).findFirst();
  }

  /** {@link PeerView#compact} of {@link #views()}, for the peer_view column and status. */
  @Override
  public String compactView() {
    return compactView;
  }

  /** Frames rejected since start, per reason. */
  @Override
  public Map<RejectReason, Long> rejections() {
    Map<RejectReason, Long> m = new EnumMap<>(RejectReason.class);
    rejections.forEach((r, n) -> m.put(r, n.get()));
    return Collections.unmodifiableMap(m);
  }

  /** All frames rejected since start. */
  @Override
  public long rejectedTotal() {
    return rejections.values().stream().mapToLong(AtomicLong::get).sum();
  }

  /** Wake-ups received from peers since start. */
  @Override
  public long wakesReceived() {
    return wakesReceived.get();
  }

  /**
   * Tells every connected peer that this master is leaving cleanly, and waits up to {@code timeout}
   * for the announcements to go out. Call it just before marking the member stopped in the
   * database; peers then look at the database at once instead of treating the broken link as a
   * possible crash.
   */
  public void leaving(Duration timeout) {
    for (OutboundLink o : outbound.values()) {
      o.send(Frame.Type.LEAVING, new byte[0]);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      for (OutboundLink o : outbound.values()) {
        o.drain(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops listening, closes every connection and stops every thread of the link. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (server != null) {
        PeerConnection.closeQuietly(server);
      }
    }
    timer.shutdownNow();
    directoryReader.shutdownNow();
    try {
      // The timer may be dialing a new peer this instant: let it finish before closing them all.
      timer.awaitTermination(2, TimeUnit.SECONDS);
      outbound.values().forEach(OutboundLink::close);
      inbound.forEach(PeerConnection::close);
      for (OutboundLink o : outbound.values()) {
        o.join(2000);
      }
      if (acceptor != null) {
        acceptor.join(2000);
      }
      directoryReader.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    outbound.clear();
    events.shutdown();
    log.info("peer link of {} closed", memberName);
  }

  // ---- package-private callbacks from the connections ----

  PeerLinkConfig config() {
    return config;
  }

  byte[] secret() {
    return secret;
  }

  void debug(String format, Object... args) {
    if (log.isDebugEnabled()) {
      log.debug("peer link of " + memberName + ": " + format, args);
    }
  }

  /** Counts a rejected frame and warns, at most once per reason every 10 s. */
  void reject(RejectReason reason, String from, String detail) {
    long n = rejections.get(reason).incrementAndGet();
    long now = System.nanoTime();
    Long last = lastWarnNanos.get(reason);
    if (last == null || now - last > WARN_EVERY_NANOS) {
      lastWarnNanos.put(reason, now);
      log.warn(
          "peer link of {} rejected a frame from {} and closed the connection: {}: {} ({} rejected"
              + " for {} so far; {})",
          memberName,
          from,
          reason,
          detail,
          n,
          reason,
          advice(reason));
    } else {
      debug("rejected a frame from {}: {}: {}", from, reason, detail);
    }
  }

  private static String advice(RejectReason reason) {
    return switch (reason) {
      case BAD_MAC -> "check that every master has the same peerLink.secret";
      case UNKNOWN_SENDER -> "a master not in the members table, or an old process of one";
      case OVERSIZED, MALFORMED -> "something that is not an Arbiter master is connecting";
      default -> "a master of another version, or an attack";
    };
  }

  void connected(OutboundLink link, PeerConnection c) {
    debug("linked to {} at {}", c.remote(), link.address());
  }

  /** An established dialed connection ended without this master closing it. */
  void disconnected(OutboundLink link, PeerConnection c) {
    MemberId peer = c.remote();
    Long leaving = leavingIncarnation.get(peer.name());
    if (leaving != null && leaving == peer.incarnation()) {
      debug("link to {} closed after it announced leaving", peer);
      return;
    }
    Optional<Duration> leaseLeft = leaseLeft(peer.name());
    log.info(
        "peer link of {}: lost the link to {} (database lease left: {}); a hint only, nothing is"
            + " claimed before the database says the lease has run out",
        memberName,
        peer,
        leaseLeft.map(d -> d.toMillis() + " ms").orElse("unknown"));
    for (PeerLinkListener l : listeners) {
      post(() -> l.onPeerLost(peer, leaseLeft));
    }
    // Wake the local claim loop when the lease should have run out: the database decides then.
    leaseLeft.ifPresent(
        left -> {
          long delay = Math.max(0, left.toMillis()) + EXPIRY_WAKE_MARGIN_MILLIS;
          try {
            timer.schedule(() -> deliver(TOPIC_LEASE_EXPIRY, peer.name()), delay, MILLIS);
          } catch (RejectedExecutionException e) {
            // closing
          }
        });
  }

  void pong(MemberId remote, long sentNanos) {
    long now = ticker.nanos();
    heard.put(remote.name(), new PeerClassifier.Heard(remote, now, now - sentNanos));
  }

  // ---- the listener side ----

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("peer link of {}: accept failed: {}", memberName, e.toString());
          pause(100); // e.g. out of file descriptors: do not spin
        }
        continue;
      }
      if (!serving.tryAcquire()) {
        // Far more connections than any cluster has masters: someone is flooding the port.
        PeerConnection.closeQuietly(s);
        if (System.nanoTime() - lastFloodWarnNanos > WARN_EVERY_NANOS) {
          lastFloodWarnNanos = System.nanoTime();
          log.warn(
              "peer link of {}: more than {} connections open; refusing {}",
              memberName,
              MAX_INBOUND_CONNECTIONS,
              s.getRemoteSocketAddress());
        }
        continue;
      }
      Thread t =
          new Thread(
              () -> {
                try {
                  serve(s);
                } finally {
                  serving.release();
                }
              },
              "arbiter-peer-serve-" + memberName);
      t.setDaemon(true);
      t.start();
    }
  }

  /** Runs one accepted connection: the handshake, then pings, wake-ups and LEAVING. */
  private void serve(Socket s) {
    String from = String.valueOf(s.getRemoteSocketAddress());
    Optional<MemberId> self = identity.get();
    if (self.isEmpty() || closed) {
      PeerConnection.closeQuietly(s);
      return;
    }
    PeerConnection c;
    try {
      c =
          PeerConnection.accept(
              s,
              self.get(),
              secret,
              (int) config.linkTimeout().toMillis(),
              config.maxFrameBytes(),
              this::isKnownSender);
    } catch (FrameCodec.Rejected e) {
      reject(e.reason(), from, e.getMessage());
      PeerConnection.closeQuietly(s);
      return;
    } catch (IOException e) {
      debug("handshake with {} failed: {}", from, e.toString());
      PeerConnection.closeQuietly(s);
      return;
    }
    inbound.add(c);
    try {
      // The dialer pings every ping interval; a connection quiet for longer is dead or stuck.
      c.readTimeout((int) config.linkTimeout().toMillis() * 3);
      while (!closed) {
        Frame f = c.receive();
        switch (f.knownType()) {
          case PING -> c.send(Frame.Type.PONG, f.payload());
          case WAKE -> {
            String topic = FrameCodec.decodeUtf8(f.payload(), "topic");
            wakesReceived.incrementAndGet();
            deliver(topic, f.sender());
          }
          case LEAVING -> {
            leavingIncarnation.put(f.sender(), f.incarnation());
            log.info("peer link of {}: {} announced a clean leave", memberName, c.remote());
            deliver(TOPIC_PEER_LEAVING, f.sender());
          }
          default -> throw new FrameCodec.Rejected(RejectReason.UNKNOWN_TYPE, "unexpected " + f);
        }
      }
    } catch (FrameCodec.Rejected e) {
      reject(e.reason(), from + " (" + c.remote() + ")", e.getMessage());
    } catch (SocketTimeoutException e) {
      debug("closing the quiet link from {}", c.remote());
    } catch (IOException e) {
      debug("link from {} ended: {}", c.remote(), e.toString());
    } finally {
      inbound.remove(c);
      c.close();
    }
  }

  /**
   * A sender is known if the directory has its name at this incarnation or an older one. A member
   * that has just joined may dial before this master's last read saw its row, so an unknown sender
   * gets one more chance: the next read that starts after its HELLO arrived (no extra read is made
   * for it; a flood of strangers costs no database statements).
   */
  private boolean isKnownSender(MemberId sender) {
    if (sender.name().equals(memberName)) {
      return false;
    }
    long arrived = ticker.nanos();
    if (isInSnapshot(snapshot, sender)) {
      return true;
    }
    long deadline = System.nanoTime() + config.directoryInterval().multipliedBy(3).toNanos();
    while (!closed && System.nanoTime() - deadline < 0) {
      PeerDirectory.Snapshot s = snapshot;
      if (s != null && s.takenAtNanos() - arrived > 0) {
        return isInSnapshot(s, sender);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private static boolean isInSnapshot(PeerDirectory.Snapshot s, MemberId sender) {
    // A newer incarnation than the row is a peer that rejoined since the read; an older one is a
    // process that should have stopped (its name was taken over).
    return s != null
        && s.members().stream()
            .anyMatch(
                m -> m.name().equals(sender.name()) && sender.incarnation() >= m.incarnation());
  }

  private void deliver(String topic, String argument) {
    List<Consumer<String>> hs = handlers.get(topic);
    if (hs == null || hs.isEmpty()) {
      return;
    }
    post(
        () -> {
          for (Consumer<String> h : hs) {
            h.accept(argument);
          }
        });
  }

  /** Runs a callback on the event thread; a failing callback is logged and the next one runs. */
  private void post(Runnable callback) {
    try {
      events.execute(
          () -> {
            try {
              callback.run();
            } catch (RuntimeException e) {
              log.warn("peer link of {}: a listener or wake-up handler failed", memberName, e);
            }
          });
    } catch (RejectedExecutionException e) {
      // closing: hints are dropped
    }
  }

  // ---- the directory, pings and classification ----

  private void readDirectory() {
    try {
      snapshot = directory.snapshot();
      if (directoryFailing) {
        directoryFailing = false;
        log.info("peer link of {}: reading the member directory again", memberName);
      }
    } catch (RuntimeException e) {
      if (!directoryFailing) {
        directoryFailing = true;
        log.warn(
            "peer link of {}: cannot read the member directory ({}); peers will show as {} once"
                + " the last read is older than {} ms",
            memberName,
            e.toString(),
            PeerClassification.UNKNOWN,
            config.databaseStaleAfter().toMillis());
      }
    }
  }

  private void tick() {
    try {
      PeerDirectory.Snapshot s = snapshot;
      if (s == null) {
        return;
      }
      long now = ticker.nanos();
      reconcile(s, now);
      for (OutboundLink o : outbound.values()) {
        o.ping(now);
      }
      classify(s, now);
    } catch (RuntimeException e) {
      log.warn("peer link of {}: tick failed", memberName, e);
    }
  }

  /** Dials the peers that advertise an address, and hangs up on those that left the directory. */
  private void reconcile(PeerDirectory.Snapshot s, long now) {
    Optional<MemberId> self = identity.get();
    Map<String, String> wanted = new HashMap<>();
    if (self.isPresent()) {
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(now - s.takenAtNanos());
      for (PeerDirectory.Member m : s.members()) {
        boolean recent =
            m.active() || m.millisSinceRenewal() + elapsedMillis < config.forgetAfter().toMillis();
        if (!m.name().equals(memberName) && m.peerAddress().isPresent() && recent) {
          wanted.put(m.name(), m.peerAddress().get());
        }
      }
    }
    for (Map.Entry<String, OutboundLink> e : outbound.entrySet()) {
      String want = wanted.get(e.getKey());
      OutboundLink o = e.getValue();
      // A new incarnation of this master redials, so that frames carry the new identity.
      if (want == null || !want.equals(o.address()) || !o.self().equals(self.orElse(null))) {
        outbound.remove(e.getKey());
        o.close();
      }
    }
    for (Map.Entry<String, String> w : wanted.entrySet()) {
      if (!outbound.containsKey(w.getKey()) && !closed) {
        OutboundLink o = new OutboundLink(this, w.getKey(), w.getValue(), self.get());
        outbound.put(w.getKey(), o);
        o.start();
      }
    }
  }

  private void classify(PeerDirectory.Snapshot s, long now) {
    for (PeerClassifier.Change c : classifier.classify(s, now, heard, leavingIncarnation)) {
      announce(c.before(), c.now());
    }
    views = classifier.views();
    String compact = PeerView.compact(views);
    if (!compact.equals(compactView)) {
      compactView = compact;
      for (PeerLinkListener l : listeners) {
        post(() -> l.onViewChanged(compact));
      }
    }
  }

  private void announce(PeerView before, PeerView now) {
    String was = before == null ? "new" : before.classification().toString();
    switch (now.classification()) {
      case PARTITIONED_FROM_ME ->
          log.warn(
              "peer link of {}: {} is {}: it renews in the database but does not answer on the link"
                  + " ({} -> {}); no failover, check the network between the two",
              memberName,
              now.peer(),
              now.classification(),
              was,
              now.classification());
      case CUT_OFF_FROM_DATABASE ->
          log.warn(
              "peer link of {}: {} is {}: it answers on the link but does not renew in the database"
                  + " ({} -> {}); it fences itself before its lease runs out",
              memberName,
              now.peer(),
              now.classification(),
              was,
              now.classification());
      default ->
          log.info(
              "peer link of {}: {} is {} (was {})",
              memberName,
              now.peer(),
              now.classification(),
              was);
    }
    for (PeerLinkListener l : listeners) {
      post(() -> l.onClassificationChanged(before, now));
    }
  }

  private Optional<Duration> leaseLeft(String peer) {
    PeerDirectory.Snapshot s = snapshot;
    if (s == null) {
      return Optional.empty();
    }
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - s.takenAtNanos());
    if (elapsedMillis > config.databaseStaleAfter().toMillis()) {
      return Optional.empty();
    }
    return s.members().stream()
        .filter(m -> m.name().equals(peer))
        .findFirst()
        .map(m -> Duration.ofMillis(m.leaseLeftMillis() - elapsedMillis));
  }

  private String advertisedHost() {
    if (config.advertisedHost().isPresent()) {
      return config.advertisedHost().get();
    }
    InetAddress bound = server.getInetAddress();
    if (!bound.isAnyLocalAddress()) {
      return bound.getHostAddress();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      throw new InvalidConfigException(
          "peerLink.advertisedHost",
          null,
          "must be set: the peer link of "
              + memberName
              + " cannot find this host's name to advertise ("
              + e.getMessage()
              + ")");
    }
  }

  private static byte[] topicBytes(String topic) {
    if (topic == null || topic.isEmpty()) {
      throw new IllegalArgumentException("wake-up topic must not be empty");
    }
    byte[] b = topic.getBytes(StandardCharsets.UTF_8);
    if (b.length > MAX_TOPIC_BYTES) {
      throw new IllegalArgumentException(
          "wake-up topic '" + topic + "' is " + b.length + " bytes; limit " + MAX_TOPIC_BYTES);
    }
    return b;
  }

  private ThreadFactory threads(String prefix) {
    return r -> {
      Thread t = new Thread(r, prefix + "-" + memberName);
      t.setDaemon(true);
      return t;
    };
  }

  private static final TimeUnit MILLIS = TimeUnit.MILLISECONDS;

  /** For tests: peers with a dialed connection up now. */
  List<String> connectedPeers() {
    List<String> names = new ArrayList<>();
    outbound.forEach(
        (n, o) -> {
          if (o.connected()) {
            names.add(n);
          }
        });
    Collections.sort(names);
    return names;
  }
}
