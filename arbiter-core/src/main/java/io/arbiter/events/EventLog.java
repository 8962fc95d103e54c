package io.arbiter.events;

import io.arbiter.spi.EventStore;
import io.arbiter.time.Ticker;
import io.arbiter.time.Wakeup;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One master's view of the cluster event log: publishes events, and runs a reader thread that
 * delivers every event to this master's subscribers in sequence order, at least once.
 *
 * <p><b>Reading.</b> The reader resumes from the position this member saved (a new member starts at
 * the head), reads in order, delivers, and saves its position every {@link
 * EventLogConfig#savePositionInterval()} (so a restart may redeliver a little, never skip). The
 * store guarantees that sequence numbers become visible in order, so "everything up to my position
 * is delivered" is exact. A failed read is retried with backoff until it succeeds; a master cut off
 * for any time catches up from its position. Retention never deletes a position; if it purged
 * events this master had not read yet, the reader says so (a WARN with the range, {@link
 * EventLogConfig.Builder#onEventsLost} with an {@link EventsLost}, the {@link #onEventsLost}
 * handlers) and goes on after them.
 *
 * <p><b>Waking.</b> Where the store pushes wake-ups (PostgreSQL NOTIFY) the reader reads when woken
 * and otherwise only every {@link EventLogConfig#safetyPollInterval()}; it is also woken by {@link
 * #onHeartbeat} when the cluster heartbeat sees a head beyond the reader's position. Without push
 * (MariaDB) it polls every {@link EventLogConfig#pollInterval()}. Wake-ups are hints: losing one
 * costs latency, never an event.
 *
 * <p><b>Confirmation.</b> {@link #confirmedAtNanos()} is the latest instant (on the config's {@link
 * Ticker}) before which every committed event is known to be delivered. The reader confirms the
 * instant it sent a read that came back short (it reached the end); the heartbeat confirms the
 * instant it read a head not beyond the position. {@link ClusterCache} serves from its cache only
 * while this is recent.
 *
 * <p>Subscribers run on the reader thread, one event at a time: keep them short. A subscriber that
 * throws is logged and the log moves on.
 */
public final class EventLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);
  private static final long NEVER = Long.MIN_VALUE;

  /** An unmoved position is saved again after this long (or a quarter of the retention age). */
  private static final Duration POSITION_REFRESH = Duration.ofHours(1);

  private final EventStore store;
  private final EventLogConfig config;
  private final Ticker ticker;
  private final String member;
  private final Map<String, List<Consumer<Event>>> subscribers = new ConcurrentHashMap<>();
  private final List<Runnable> lossHandlers = new CopyOnWriteArrayList<>();
  private final Wakeup wakeup = new Wakeup();
  private final Object progress = new Object();
  private final AtomicLong confirmedAt = new AtomicLong(NEVER);
  private final AtomicLong delivered = new AtomicLong(-1); // -1: position not known yet
  private final AtomicLong eventsDelivered = new AtomicLong();
  private final AtomicLong eventsLost = new AtomicLong();
  private volatile boolean running;

  /**
   * The lowest head a heartbeat saw below the position since the reader last looked; {@link
   * Long#MAX_VALUE}: none. The reader then checks the head itself.
   */
  private final AtomicLong headSeenBelowPosition = new AtomicLong(Long.MAX_VALUE);

  private Thread reader;
  private AutoCloseable listener;

  // Reader-thread state.
  private long savedSeq = -1;
  private long lastSaveAt;
  private long lastPurgeAt;
  private long failingSince = NEVER;

  private final List<Runnable> publishListeners = new CopyOnWriteArrayList<>();

  public EventLog(EventStore store, EventLogConfig config) {
    this.store = store;
    this.config = config;
    this.ticker = config.ticker();
    this.member = config.memberName();
  }

  /** Starts the reader (and, where the store pushes, the listener). */
  public synchronized EventLog start() {
    if (running) {
      return this;
    }
    running = true;
    log.info(
        "event log of {} starting ({}): {}",
        member,
        store.pushesWakeups()
            ? "push wake-ups, safety read every " + config.safetyPollInterval()
            : "polling every " + config.pollInterval(),
        config);
    if (store.pushesWakeups()) {
      listener = store.listen(this::wake, config.safetyPollInterval());
    }
    reader = new Thread(this::readLoop, "arbiter-events-" + member);
    reader.setDaemon(true);
    reader.start();
    return this;
  }

  /** The member this log reads for. */
  public String member() {
    return member;
  }

  /** The largest payload the store accepts, in bytes. */
  public int maxPayloadBytes() {
    return store.maxPayloadBytes();
  }

  /**
   * Publishes an event in a transaction of its own; returns its sequence number. Every master, this
   * one included, delivers it to its subscribers of {@code topic}.
   *
   * @throws InvalidEventException if it breaks a limit (nothing is published)
   */
  public long publish(String topic, String key, byte[] payload) {
    long seq = store.publish(member, topic, key, payload);
    wake(); // deliver our own event at once rather than on the NOTIFY's round trip
    publishListeners.forEach(Runnable::run);
    return seq;
  }

  /**
   * Publishes an event inside the caller's open transaction on {@code transaction}: it becomes
   * visible, and is delivered, only if that transaction commits. Other publishers wait from this
   * call until the commit: publish as late in the transaction as possible.
   */
  public long publish(Connection transaction, String topic, String key, byte[] payload) {
    long seq = store.publish(transaction, member, topic, key, payload);
    // Before the caller's commit: a reader woken now may not see it yet, and then sees it at the
    // next heartbeat (or NOTIFY, which PostgreSQL sends at the commit).
    publishListeners.forEach(Runnable::run);
    return seq;
  }

  /**
   * Runs {@code listener} after each publish from this master (the cluster uses it to wake its
   * peers over the peer link, which on MariaDB replaces the reader's poll).
   */
  public AutoCloseable onPublished(Runnable listener) {
    publishListeners.add(listener);
    return () -> publishListeners.remove(listener);
  }

  /**
   * Delivers every event of {@code topic} read from now on to {@code subscriber}, on the reader
   * thread, in sequence order. Close the returned handle to stop.
   */
  public AutoCloseable subscribe(String topic, Consumer<Event> subscriber) {
    subscribers.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(subscriber);
    return () -> subscribers.getOrDefault(topic, List.of()).remove(subscriber);
  }

  /**
   * Runs {@code handler} (on the reader thread) when events were purged by retention before this
   * master read them: it must assume anything changed (a cache drops everything).
   */
  public AutoCloseable onEventsLost(Runnable handler) {
    lossHandlers.add(handler);
    return () -> lossHandlers.remove(handler);
  }

  /**
   * Fed by the cluster heartbeat: the log's head was {@code headSeq} when read by a statement sent
   * at {@code observedAtNanos} (on the config's ticker). If this master has delivered that far, the
   * log is confirmed up to that instant; if not, the reader is woken to catch up.
   */
  public void onHeartbeat(long headSeq, long observedAtNanos) {
    long at = delivered.get();
    if (at > headSeq) {
      // Usually a heartbeat read before the reader's latest read; but the log may have gone back
      // (see #checkTheHeadWentBack): the reader, which alone moves the position, looks.
      headSeenBelowPosition.accumulateAndGet(headSeq, Math::min);
      confirm(observedAtNanos); // delivered past the head: as fresh as before the check
      wake();
    } else if (at == headSeq) {
      confirm(observedAtNanos);
    } else {
      wake();
    }
  }

  /** Asks the reader to look at the log now (a hint; also confirms freshness when it succeeds). */
  public void requestConfirmation() {
    wake();
  }

  /** The last sequence delivered to this master's subscribers; -1 before the first read. */
  public long deliveredSeq() {
    return delivered.get();
  }

  /**
   * The instant (config ticker) up to which every committed event has been delivered, if any read
   * or heartbeat has confirmed one yet.
   */
  public OptionalLong confirmedAtNanos() {
    long at = confirmedAt.get();
    return at == NEVER ? OptionalLong.empty() : OptionalLong.of(at);
  }

  /** How long ago the log was last confirmed; empty if never. */
  public java.util.Optional<Duration> confirmationAge() {
    long at = confirmedAt.get();
    return at == NEVER
        ? java.util.Optional.empty()
        : java.util.Optional.of(Duration.ofNanos(Math.max(0, ticker.nanos() - at)));
  }

  /** True if the log is confirmed up to (now − {@code maxStaleness}). */
  public boolean confirmedWithin(Duration maxStaleness) {
    long at = confirmedAt.get();
    return at != NEVER && ticker.nanos() - at <= maxStaleness.toNanos();
  }

  /** Events delivered since start, and events found purged before they could be read. */
  public Stats stats() {
    return new Stats(delivered.get(), eventsDelivered.get(), eventsLost.get());
  }

  /**
   * Counters of this master's reader.
   *
   * @param deliveredSeq the last sequence delivered
   * @param delivered events delivered since start
   * @param lost events purged before this master read them
   */
  public record Stats(long deliveredSeq, long delivered, long lost) {}

  /** Waits until this master has delivered {@code seq}; true if it did within {@code timeout}. */
  public boolean awaitDelivered(long seq, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (progress) {
      while (delivered.get() < seq) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(progress, left);
      }
    }
    return true;
  }

  private void wake() {
    wakeup.signal();
  }

  private void confirm(long atNanos) {
    confirmedAt.accumulateAndGet(atNanos, (old, now) -> old == NEVER ? now : Math.max(old, now));
  }

  private void readLoop() {
    long backoff = config.retryBackoffMin().toNanos();
    boolean first = true;
    while (running) {
      if (!first) {
        wakeup.await(nextWaitNanos());
        if (!running) {
          break;
        }
      }
      first = false;
      try {
        if (delivered.get() < 0) {
          loadPosition();
        }
        long seenBelow = headSeenBelowPosition.getAndSet(Long.MAX_VALUE);
        if (seenBelow != Long.MAX_VALUE) {
          checkTheHeadWentBack(seenBelow);
        }
        catchUp();
        if (failingSince != NEVER) {
          log.info(
              "event log of {} reached the database again after {} ms; caught up to seq {}",
              member,
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failingSince),
              delivered.get());
          failingSince = NEVER;
        }
        backoff = config.retryBackoffMin().toNanos();
        savePosition(false);
        purgeIfDue();
      } catch (RuntimeException e) {
        if (!running) {
          break;
        }
        if (failingSince == NEVER) {
          failingSince = System.nanoTime();
          log.warn(
              "event log of {} cannot read the log at seq {}: {}; retrying (caches bypass until"
                  + " caught up)",
              member,
              delivered.get(),
              e.getMessage());
        } else {
          log.debug("event log of {}: read failed again: {}", member, e.toString());
        }
        wakeup.sleepUnlessClosed(backoff);
        backoff = Math.min(backoff * 2, config.retryBackoffMax().toNanos());
        wakeup.signal(); // retry at once after the backoff
      }
    }
    try {
      savePosition(true);
    } catch (RuntimeException e) {
      log.debug("event log of {}: could not save the position at close: {}", member, e.toString());
    }
  }

  private long nextWaitNanos() {
    long wait =
        (store.pushesWakeups() ? config.safetyPollInterval() : config.pollInterval()).toNanos();
    if (savedSeq != delivered.get()) {
      long due = lastSaveAt + config.savePositionInterval().toNanos() - System.nanoTime();
      wait = Math.min(wait, Math.max(0, due));
    }
    return Math.max(1, wait);
  }

  private void loadPosition() {
    OptionalLong saved = store.position(member);
    long start;
    if (saved.isPresent()) {
      start = saved.getAsLong();
      log.info("event log of {} resumes after seq {}", member, start);
    } else {
      // A new member has nothing cached that older events could concern: start at the head.
      start = store.head();
      store.savePosition(member, start);
      log.info("event log of {} starts at the head, seq {}", member, start);
    }
    savedSeq = start;
    lastSaveAt = System.nanoTime();
    lastPurgeAt = System.nanoTime();
    delivered.set(start);
    checkTheHeadWentBack(Long.MAX_VALUE);
  }

  /**
   * A head below this master's position means the log went back: an asynchronous database failover
   * lost its last commits, or the database was restored from a backup. The events after the head
   * that this master read are gone for everyone, and the numbers after it will be handed out again:
   * the reader goes back to the head, or it would take the new events for ones it had delivered.
   * Back to the lowest head a heartbeat saw, if lower: events published since the loss may already
   * have moved the head up again, and delivering an event twice is allowed (at least once), passing
   * one over is not.
   *
   * @param lowestSeen the lowest head a heartbeat saw below the position; MAX_VALUE: none
   */
  private void checkTheHeadWentBack(long lowestSeen) {
    long at = delivered.get();
    long current = store.head(); // read after the position was set: a lower head is real
    if (current < at) {
      long head = Math.min(current, lowestSeen);
      log.warn(
          "event log of {}: the log's head is seq {}, below this master's position {}: the"
              + " database lost events {}..{} that this master had read (an asynchronous failover"
              + " or a restore from a backup); reading on from {} (the numbers after it are handed"
              + " out again)",
          member,
          head,
          at,
          head + 1,
          at,
          head);
      delivered.set(head);
      store.savePosition(member, head);
      savedSeq = head;
    }
  }

  private void catchUp() {
    while (running) {
      long sentAt = ticker.nanos(); // before the read: its snapshot is taken after this instant
      long after = delivered.get();
      List<Event> batch = store.read(after, config.batchSize());
      for (Event e : batch) {
        long previous = delivered.get();
        if (e.seq() > previous + 1) {
          // The store skips a number only if retention purged it (EventStore#read).
          lost(previous + 1, e.seq() - 1);
        }
        deliver(e);
        delivered.set(e.seq());
      }
      if (!batch.isEmpty()) {
        synchronized (progress) {
          progress.notifyAll();
        }
      }
      if (batch.size() < config.batchSize()) {
        confirm(sentAt); // we reached the end: everything committed before sentAt is delivered
        return;
      }
    }
  }

  private void deliver(Event e) {
    List<Consumer<Event>> list = subscribers.get(e.topic());
    if (list != null) {
      for (Consumer<Event> s : list) {
        try {
          s.accept(e);
        } catch (RuntimeException ex) {
          log.warn(
              "event log of {}: a subscriber of '{}' failed on seq {}: {}; moving on",
              member,
              e.topic(),
              e.seq(),
              ex.toString());
        }
      }
    }
    eventsDelivered.incrementAndGet();
  }

  private void lost(long from, long to) {
    EventsLost lost = new EventsLost(member, from, to);
    eventsLost.addAndGet(lost.count());
    log.warn(
        "event log of {}: events {}..{} ({} events) were purged by retention before this master"
            + " read them; subscribers are told to assume everything changed",
        member,
        from,
        to,
        lost.count());
    try {
      config.onEventsLost().accept(lost);
    } catch (RuntimeException ex) {
      log.warn("event log of {}: the onEventsLost callback failed: {}", member, ex.toString());
    }
    for (Runnable h : lossHandlers) {
      try {
        h.run();
      } catch (RuntimeException ex) {
        log.warn("event log of {}: a loss handler failed: {}", member, ex.toString());
      }
    }
  }

  private void savePosition(boolean force) {
    long d = delivered.get();
    if (d < 0) {
      return;
    }
    if (d == savedSeq) {
      // Unmoved (a quiet log): rewrite it now and then all the same, so that its updated_at says
      // the master is alive. Masters of schema version 2 still delete positions by age; this
      // keeps them from deleting the position of a live master during a rolling upgrade.
      if (System.nanoTime() - lastSaveAt >= positionRefreshNanos()) {
        store.savePosition(member, d);
        lastSaveAt = System.nanoTime();
      }
      return;
    }
    if (!force && System.nanoTime() - lastSaveAt < config.savePositionInterval().toNanos()) {
      return;
    }
    store.savePosition(member, d);
    savedSeq = d;
    lastSaveAt = System.nanoTime();
  }

  private long positionRefreshNanos() {
    return Math.min(POSITION_REFRESH.toNanos(), config.retentionAge().toNanos() / 4);
  }

  private void purgeIfDue() {
    Duration every = config.purgeInterval();
    if (every.isZero() || System.nanoTime() - lastPurgeAt < every.toNanos()) {
      return;
    }
    lastPurgeAt = System.nanoTime();
    int n = store.purge(config.retentionAge(), config.retentionMaxEvents());
    if (n > 0) {
      log.info(
          "event log: purged {} event(s) (older than {} or beyond the newest {})",
          n,
          config.retentionAge(),
          config.retentionMaxEvents());
    }
  }

  /** Stops the reader and the listener, saving the position once more. Idempotent. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      t = reader;
    }
    wakeup.close();
    if (listener != null) {
      try {
        listener.close();
      } catch (Exception e) {
        log.debug("closing the event listener: {}", e.toString());
      }
    }
    if (t != null) {
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        // A statement hangs; the thread is a daemon and ends with its statement's timeout. A close
        // must not throw for it: the caller is shutting down anyway.
        log.warn(
            "event log reader of {} did not stop within 5 s (a statement hangs?); leaving it",
            member);
      }
    }
  }
}
