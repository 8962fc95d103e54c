package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.events.ClusterCache;
import io.arbiter.events.ConsumerPosition;
import io.arbiter.events.Event;
import io.arbiter.events.EventLog;
import io.arbiter.events.EventLogConfig;
import io.arbiter.events.EventsLost;
import io.arbiter.events.InvalidEventException;
import io.arbiter.spi.EventStore;
import io.arbiter.time.Ticker;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EventStore}, with the {@link EventLog} and {@link ClusterCache} on top of it,
 * must guarantee: events read in commit order with none skipped even when commits come out of
 * order, at least once after any outage, limits that publish nothing, retention that readers
 * notice, caches coherent on every master, and reads that bypass a cache whose log cannot be
 * confirmed. A backend's test subclasses this; masters are played by stores with pools of their
 * own, some behind a {@link FaultProxy}.
 */
public abstract class EventLogContract {
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final String prefix = "ev" + UUID.randomUUID().toString().substring(0, 6) + "-";

  /** This class's database. */
  protected abstract TestDatabase database();

  /**
   * Opens a store with a pool of its own on {@code jdbcUrl} (this database, maybe through a proxy),
   * with socket timeouts of about a second, the schema created.
   */
  protected abstract EventStore openStore(String jdbcUrl);

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  protected <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  protected EventStore store() {
    return closeLater(openStore(database().jdbcUrl()));
  }

  protected String name(String base) {
    return prefix + base;
  }

  protected EventLogConfig.Builder config(String member) {
    return EventLogConfig.builder(name(member))
        .pollInterval(Duration.ofMillis(20))
        .savePositionInterval(Duration.ofMillis(100))
        .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .purgeInterval(Duration.ZERO);
  }

  protected EventLog startLog(EventStore store, EventLogConfig config) {
    EventLog log = closeLater(new EventLog(store, config));
    log.start();
    await(Duration.ofSeconds(10), "the log's first read", () -> log.confirmedAtNanos().isPresent());
    return log;
  }

  private Connection transaction() throws SQLException {
    Connection c = DriverManager.getConnection(database().jdbcUrl());
    c.setAutoCommit(false);
    c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    return c;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  protected static void await(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  @Test
  void eventsAreReadBackInOrderWithTheirFields() {
    EventStore store = store();
    long before = store.head();
    long a = store.publish(name("m"), name("t"), "k1", bytes("one"));
    long b = store.publish(name("m"), name("t"), null, null);
    assertThat(b).isEqualTo(a + 1);
    assertThat(a).isEqualTo(before + 1);
    assertThat(store.head()).isEqualTo(b);
    List<Event> read = store.read(before, 10);
    assertThat(read).extracting(Event::seq).containsExactly(a, b);
    assertThat(read.get(0).topic()).isEqualTo(name("t"));
    assertThat(read.get(0).key()).isEqualTo("k1");
    assertThat(read.get(0).payloadText()).isEqualTo("one");
    assertThat(read.get(0).publisher()).isEqualTo(name("m"));
    assertThat(read.get(0).createdAt()).isNotNull();
    assertThat(read.get(1).key()).isNull();
    assertThat(read.get(1).payload()).isNull();
    assertThat(store.read(before, 1)).extracting(Event::seq).containsExactly(a);
  }

  /**
   * The trap: transaction A takes a number, B publishes after it; a reader reads; A commits last. A
   * must not be skipped. Here B cannot take a number until A ends, so the reader never sees B
   * without A.
   */
  @Test
  void aTransactionHoldingALowerSequenceIsNeverSkipped() throws Exception {
    EventStore store = store();
    long start = store.head();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection txA = transaction()) {
      long seqA = store.publish(txA, name("m"), name("t"), "a", null);
      Future<Long> b = pool.submit(() -> store.publish(name("m"), name("t"), "b", null));
      Thread.sleep(300);
      // B waits for A; meanwhile a reader sees neither and its position stays put.
      assertThat(b.isDone()).as("B published while A held a lower number").isFalse();
      List<Event> early = store.read(start, 100);
      assertThat(early).isEmpty();
      txA.commit();
      long seqB = b.get(5, TimeUnit.SECONDS);
      assertThat(seqB).isGreaterThan(seqA);
      List<Event> read = store.read(start, 100);
      assertThat(read).extracting(Event::key).containsExactly("a", "b");
      assertThat(read).extracting(Event::seq).containsExactly(seqA, seqB);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aRolledBackPublishLeavesNoEventAndNoGap() throws Exception {
    EventStore store = store();
    long start = store.head();
    try (Connection tx = transaction()) {
      store.publish(tx, name("m"), name("t"), "rolled-back", null);
      tx.rollback();
    }
    long next = store.publish(name("m"), name("t"), "kept", null);
    assertThat(next).isEqualTo(start + 1);
    assertThat(store.read(start, 10)).extracting(Event::key).containsExactly("kept");
  }

  /**
   * Many publishers, some inside transactions that sleep before committing and some that roll back,
   * while readers read from their positions: every reader sees exactly the committed events, in
   * sequence order with no gap, and each key's events in the order they were published.
   */
  @Test
  void concurrentPublishersWithOutOfOrderCommitsNoEventSkippedNoneReordered() throws Exception {
    EventStore store = store();
    EventStore readerStore = store();
    long start = store.head();
    int publishers = 6;
    int perPublisher = 120;
    String topic = name("fuzz");
    Set<Long> committed = ConcurrentHashMap.newKeySet();
    AtomicBoolean publishing = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(publishers + 2);
    List<Future<?>> publisherFutures = new ArrayList<>();
    List<List<Event>> seenByReader = List.of(new ArrayList<>(), new ArrayList<>());
    List<Future<?>> readerFutures = new ArrayList<>();
    // Two masters' event logs read at the same time, through wake-ups or polls.
    List<EventLog> logs = new ArrayList<>();
    List<List<Event>> seenByLog = new ArrayList<>();
    for (String m : List.of("fuzz-a", "fuzz-b")) {
      EventLog log = startLog(store(), config(m).build());
      List<Event> seen = Collections.synchronizedList(new ArrayList<>());
      log.subscribe(topic, seen::add);
      logs.add(log);
      seenByLog.add(seen);
    }
    try {
      for (List<Event> seen : seenByReader) {
        readerFutures.add(
            pool.submit(
                () -> {
                  long pos = start;
                  while (true) {
                    boolean last = !publishing.get();
                    List<Event> batch = readerStore.read(pos, 50);
                    for (Event e : batch) {
                      seen.add(e);
                      pos = e.seq();
                    }
                    if (last && batch.isEmpty()) {
                      return null;
                    }
                  }
                }));
      }
      for (int p = 0; p < publishers; p++) {
        String key = "p" + p;
        publisherFutures.add(
            pool.submit(
                () -> {
                  ThreadLocalRandom r = ThreadLocalRandom.current();
                  for (int i = 0; i < perPublisher; i++) {
                    byte[] payload = bytes(String.valueOf(i));
                    if (r.nextBoolean()) {
                      committed.add(store.publish(name("m"), topic, key, payload));
                    } else {
                      try (Connection tx = transaction()) {
                        long seq = store.publish(tx, name("m"), topic, key, payload);
                        Thread.sleep(r.nextInt(3)); // commit late, while others wait to publish
                        if (r.nextInt(10) == 0) {
                          tx.rollback();
                        } else {
                          tx.commit();
                          committed.add(seq);
                        }
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : publisherFutures) {
        f.get(120, TimeUnit.SECONDS);
      }
      publishing.set(false);
      for (Future<?> f : readerFutures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      publishing.set(false);
      pool.shutdownNow();
    }
    List<Long> expected = new ArrayList<>(committed);
    Collections.sort(expected);
    assertThat(expected).hasSizeGreaterThan(publishers * perPublisher / 2);
    // Dense: the committed numbers are exactly start+1 .. head.
    assertThat(expected.get(expected.size() - 1) - start).isEqualTo(expected.size());
    long last = expected.get(expected.size() - 1);
    List<List<Event>> allSeen = new ArrayList<>(seenByReader);
    for (int i = 0; i < logs.size(); i++) {
      assertThat(logs.get(i).awaitDelivered(last, Duration.ofSeconds(30))).isTrue();
      allSeen.add(new ArrayList<>(seenByLog.get(i)));
    }
    for (List<Event> seen : allSeen) {
      assertThat(seen).extracting(Event::seq).containsExactlyElementsOf(expected);
      Map<String, Integer> lastPerKey = new HashMap<>();
      for (Event e : seen) {
        int i = Integer.parseInt(e.payloadText());
        Integer prev = lastPerKey.put(e.key(), i);
        assertThat(prev == null || prev < i).as("key %s: %s after %s", e.key(), i, prev).isTrue();
      }
    }
  }

  @Test
  void anEventOverALimitGivesAClearErrorAndPublishesNothing() throws Exception {
    EventStore store = store();
    long head = store.head();
    int limit = store.maxPayloadBytes();
    byte[] tooBig = new byte[limit + 1];
    assertThatThrownBy(() -> store.publish(name("m"), name("t"), "k", tooBig))
        .isInstanceOf(InvalidEventException.class)
        .hasMessageContaining("payload")
        .hasMessageContaining(String.valueOf(limit + 1))
        .hasMessageContaining(String.valueOf(limit));
    try (Connection tx = transaction()) {
      assertThatThrownBy(() -> store.publish(tx, name("m"), name("t"), "k", tooBig))
          .isInstanceOf(InvalidEventException.class);
      tx.commit();
    }
    assertThatThrownBy(() -> store.publish(name("m"), "x".repeat(129), "k", null))
        .isInstanceOf(InvalidEventException.class)
        .hasMessageContaining("topic")
        .hasMessageContaining("128");
    assertThatThrownBy(() -> store.publish(name("m"), name("t"), "k".repeat(513), null))
        .isInstanceOf(InvalidEventException.class)
        .hasMessageContaining("key")
        .hasMessageContaining("512");
    assertThat(store.head()).isEqualTo(head);
    // Exactly the limit is accepted and read back whole.
    long seq = store.publish(name("m"), name("t"), "k", new byte[limit]);
    assertThat(store.read(seq - 1, 1).get(0).payload()).hasSize(limit);
  }

  @Test
  void positionsAreSavedAndListedWithTheirLag() {
    EventStore store = store();
    assertThat(store.position(name("m1"))).isEmpty();
    long seq = store.publish(name("m"), name("t"), "k", null);
    for (int i = 0; i < 4; i++) {
      store.publish(name("m"), name("t"), "k", null);
    }
    store.savePosition(name("m1"), seq);
    store.savePosition(name("m2"), seq + 4);
    store.savePosition(name("m1"), seq + 1);
    assertThat(store.position(name("m1"))).hasValue(seq + 1);
    Map<String, ConsumerPosition> byMember = new HashMap<>();
    for (ConsumerPosition p : store.positions()) {
      byMember.put(p.member(), p);
    }
    assertThat(byMember.get(name("m1")).lag()).isEqualTo(3);
    assertThat(byMember.get(name("m2")).lag()).isZero();
    assertThat(byMember.get(name("m1")).headSeq()).isEqualTo(seq + 4);
    assertThat(byMember.get(name("m1")).updatedAt()).isNotNull();
  }

  @Test
  void retentionPurgesByCountAndByAgeButKeepsTheHead() throws Exception {
    EventStore store = store();
    long start = store.head();
    for (int i = 0; i < 10; i++) {
      store.publish(name("m"), name("t"), "k" + i, null);
    }
    long head = store.head();
    store.purge(Duration.ofDays(1), 3);
    List<Event> left = store.read(0, 1000);
    assertThat(left).extracting(Event::seq).containsExactly(head - 2, head - 1, head);
    assertThat(start).isLessThan(head - 2);
    Thread.sleep(20);
    store.purge(Duration.ofMillis(1), 1000);
    assertThat(store.read(0, 1000)).extracting(Event::seq).containsExactly(head);
    assertThat(store.head()).isEqualTo(head);
  }

  @Test
  void aReaderWhoseEventsWerePurgedIsToldAndGoesOn() throws Exception {
    EventStore store = store();
    EventLog first = startLog(store, config("r").build());
    long from = first.deliveredSeq();
    first.close(); // saves its position
    for (int i = 0; i < 10; i++) {
      store.publish(name("m"), name("t"), "k" + i, null);
    }
    assertThat(store.purge(Duration.ofDays(1), 3)).isGreaterThanOrEqualTo(7);
    long head = store.head();
    assertThat(store.purgedThrough()).as("the purge watermark").isEqualTo(head - 3);
    AtomicInteger lossCalls = new AtomicInteger();
    List<EventsLost> told = Collections.synchronizedList(new ArrayList<>());
    List<Long> delivered = Collections.synchronizedList(new ArrayList<>());
    EventLog again = closeLater(new EventLog(store, config("r").onEventsLost(told::add).build()));
    again.onEventsLost(lossCalls::incrementAndGet);
    again.subscribe(name("t"), e -> delivered.add(e.seq()));
    again.start();
    assertThat(again.awaitDelivered(head, Duration.ofSeconds(10))).isTrue();
    assertThat(head - from).isEqualTo(10);
    assertThat(again.stats().lost()).isEqualTo(7);
    assertThat(lossCalls.get()).isEqualTo(1);
    assertThat(told)
        .as("the reader is told exactly which events it lost")
        .containsExactly(new EventsLost(name("r"), from + 1, head - 3));
    assertThat(delivered).containsExactly(head - 2, head - 1, head);
  }

  /**
   * The log went back (an asynchronous database failover lost its last commits, or a restore): a
   * reader that had read past the new head is told, and reads the events numbered from there on
   * instead of taking them for events it already delivered.
   */
  @Test
  void aReaderPastTheHeadAfterTheLogWentBackReadsTheNewEvents() throws Exception {
    EventStore store = store();
    List<Long> delivered = Collections.synchronizedList(new ArrayList<>());
    EventLog reader = closeLater(new EventLog(store, config("past").build()));
    reader.subscribe(name("t"), e -> delivered.add(e.seq()));
    reader.start();
    await(Duration.ofSeconds(10), "the first read", () -> reader.confirmedAtNanos().isPresent());
    long before = store.head();
    for (int i = 0; i < 5; i++) {
      store.publish(name("m"), name("t"), "lost" + i, null);
    }
    assertThat(reader.awaitDelivered(before + 5, Duration.ofSeconds(10))).isTrue();

    // The last three commits are lost, as a promoted replica that had not received them would.
    try (Connection c = transaction();
        Statement st = c.createStatement()) {
      st.executeUpdate("DELETE FROM arbiter_event WHERE seq > " + (before + 2));
      st.executeUpdate("UPDATE arbiter_event_head SET last_seq = " + (before + 2));
      c.commit();
    }
    reader.onHeartbeat(store.head(), System.nanoTime());
    long next = store.publish(name("m"), name("t"), "after", null);
    assertThat(next).isEqualTo(before + 3);
    await(Duration.ofSeconds(10), "the new event delivered", () -> delivered.size() == 6);
    assertThat(delivered)
        .as("seqs delivered: the new event numbered " + next + " again")
        .containsExactly(before + 1, before + 2, before + 3, before + 4, before + 5, next);
  }

  /**
   * Purges leave a watermark that only grows: a second purge with nothing new to delete deletes
   * nothing and keeps it; a reader at or above it is told of no loss.
   */
  @Test
  void purgesLeaveAWatermarkThatOnlyGrows() throws Exception {
    EventStore store = store();
    for (int i = 0; i < 5; i++) {
      store.publish(name("m"), name("t"), "k" + i, null);
    }
    long head = store.head();
    store.purge(Duration.ofDays(1), 2);
    assertThat(store.purgedThrough()).isEqualTo(head - 2);
    assertThat(store.purge(Duration.ofDays(1), 2)).isZero();
    assertThat(store.purge(Duration.ofDays(1), 4))
        .as("a purge that would keep more moves nothing back")
        .isZero();
    assertThat(store.purgedThrough()).isEqualTo(head - 2);
    assertThat(store.read(head - 3, 10)).extracting(Event::seq).containsExactly(head - 1, head);

    List<EventsLost> told = Collections.synchronizedList(new ArrayList<>());
    EventLog log = startLog(store, config("above").onEventsLost(told::add).build());
    long seq = store.publish(name("m"), name("t"), "after", null);
    assertThat(log.awaitDelivered(seq, Duration.ofSeconds(10))).isTrue();
    assertThat(told).isEmpty();
  }

  /**
   * A reader whose position has not moved for longer than the retention age (a quiet log) keeps it
   * through a purge: after a restart it resumes there, and delivers what was published while it was
   * down, instead of starting at the head and skipping it.
   */
  @Test
  void aQuietReadersPositionSurvivesAPurgeRunLongAfterItLastMoved() throws Exception {
    EventStore store = store();
    EventLog quiet = startLog(store, config("quiet").build());
    long position = quiet.deliveredSeq();
    quiet.close();
    assertThat(store.position(name("quiet"))).hasValue(position);
    Thread.sleep(50); // older than the retention age below
    store.purge(Duration.ofMillis(1), 1_000_000);
    assertThat(store.position(name("quiet")))
        .as("the position of a reader that did not move for longer than the retention age")
        .hasValue(position);

    long published = store.publish(name("other"), name("t"), "while-down", null);
    List<String> delivered = Collections.synchronizedList(new ArrayList<>());
    List<EventsLost> told = Collections.synchronizedList(new ArrayList<>());
    EventLog again =
        closeLater(new EventLog(store, config("quiet").onEventsLost(told::add).build()));
    again.subscribe(name("t"), e -> delivered.add(e.key()));
    again.start();
    assertThat(again.awaitDelivered(published, Duration.ofSeconds(10))).isTrue();
    assertThat(delivered).containsExactly("while-down");
    assertThat(told).as("nothing it had not read was purged").isEmpty();
  }

  @Test
  void theLogDeliversToEveryMasterAndResumesFromTheSavedPosition() throws Exception {
    EventStore storeA = store();
    EventStore storeB = store();
    EventLog a = startLog(storeA, config("a").build());
    EventLog b = startLog(storeB, config("b").build());
    List<String> onA = Collections.synchronizedList(new ArrayList<>());
    List<String> onB = Collections.synchronizedList(new ArrayList<>());
    a.subscribe(name("t"), e -> onA.add(e.key()));
    b.subscribe(name("t"), e -> onB.add(e.key()));
    long seq = 0;
    for (int i = 0; i < 20; i++) {
      seq = a.publish(name("t"), "k" + i, null);
    }
    assertThat(b.awaitDelivered(seq, Duration.ofSeconds(5))).isTrue();
    assertThat(a.awaitDelivered(seq, Duration.ofSeconds(5))).isTrue();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      expected.add("k" + i);
    }
    assertThat(onA).containsExactlyElementsOf(expected);
    assertThat(onB).containsExactlyElementsOf(expected);
    b.close();
    assertThat(storeB.position(name("b"))).hasValue(seq);
    long more = a.publish(name("t"), "after", null);
    EventLog b2 = closeLater(new EventLog(storeB, config("b").build()));
    List<String> onB2 = Collections.synchronizedList(new ArrayList<>());
    b2.subscribe(name("t"), e -> onB2.add(e.key()));
    b2.start();
    assertThat(b2.awaitDelivered(more, Duration.ofSeconds(5))).isTrue();
    assertThat(onB2).containsExactly("after");
  }

  @Test
  void aReaderCutOffForThreeSecondsCatchesUpWithNothingMissed() throws Exception {
    cutOffAndCatchUp(Duration.ofSeconds(3));
  }

  @Test
  @Tag("slow")
  void aReaderCutOffForThirtySecondsCatchesUpWithNothingMissed() throws Exception {
    cutOffAndCatchUp(Duration.ofSeconds(30));
  }

  private void cutOffAndCatchUp(Duration outage) throws Exception {
    FaultProxy proxy = closeLater(FaultProxy.forUrl(database().jdbcUrl()));
    EventStore publisherStore = store();
    EventStore readerStore = closeLater(openStore(proxy.jdbcUrl(database().jdbcUrl())));
    EventLog reader = startLog(readerStore, config("cut").build());
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    reader.subscribe(name("t"), e -> seen.add(e.seq()));
    List<Long> published = new ArrayList<>();
    published.add(publisherStore.publish(name("p"), name("t"), "before", null));
    assertThat(reader.awaitDelivered(published.get(0), Duration.ofSeconds(5))).isTrue();

    proxy.mode(FaultProxy.Mode.BLACKHOLE);
    long end = System.nanoTime() + outage.toNanos();
    int i = 0;
    while (System.nanoTime() - end < 0) {
      published.add(publisherStore.publish(name("p"), name("t"), "during-" + i++, null));
      Thread.sleep(10);
    }
    assertThat(reader.deliveredSeq()).isLessThan(published.get(published.size() - 1));
    proxy.mode(FaultProxy.Mode.OPEN);
    published.add(publisherStore.publish(name("p"), name("t"), "after", null));
    long last = published.get(published.size() - 1);
    assertThat(reader.awaitDelivered(last, Duration.ofSeconds(30))).isTrue();
    Set<Long> missed = new HashSet<>(published);
    missed.removeAll(new HashSet<>(seen));
    assertThat(missed).as("events never delivered after catch-up").isEmpty();
    assertThat(seen).as("delivered once each, in order").isSorted().doesNotHaveDuplicates();
  }

  /** A loader over a map that plays the database, counting its calls. */
  protected static final class Source {
    final Map<String, String> rows = new ConcurrentHashMap<>();
    final AtomicInteger loads = new AtomicInteger();

    String load(String key) {
      loads.incrementAndGet();
      return rows.get(key);
    }
  }

  @Test
  void anInvalidationReachesTheCachesOfAllThreeMasters() throws Exception {
    Source source = new Source();
    source.rows.put("k", "v1");
    List<ClusterCache<String, String>> caches = new ArrayList<>();
    for (String m : List.of("m1", "m2", "m3")) {
      EventLog log = startLog(store(), config(m).build());
      caches.add(closeLater(ClusterCache.<String, String>builder(log, "users").build()));
    }
    for (ClusterCache<String, String> c : caches) {
      await(Duration.ofSeconds(5), "a cached v1", () -> "v1".equals(c.get("k", source::load)));
      // A hit once the log is confirmed fresh (a read while it is not bypasses the cache).
      await(
          Duration.ofSeconds(5),
          "a hit",
          () -> "v1".equals(c.get("k", source::load)) && c.stats().hits() > 0);
    }
    source.rows.put("k", "v2");
    caches.get(0).invalidate("k");
    assertThat(caches.get(0).get("k", source::load)).isEqualTo("v2"); // its own at once
    for (ClusterCache<String, String> c : caches) {
      await(Duration.ofSeconds(5), "v2 everywhere", () -> "v2".equals(c.get("k", source::load)));
      await(Duration.ofSeconds(5), "the eviction applied", () -> c.stats().evictionsApplied() >= 1);
    }

    // Inside the caller's transaction: a rollback evicts nothing; a commit evicts everywhere.
    long applied = caches.get(2).stats().evictionsApplied();
    try (Connection tx = transaction()) {
      caches.get(0).invalidate(tx, "k");
      tx.rollback();
    }
    source.rows.put("k", "v3");
    try (Connection tx = transaction()) {
      caches.get(0).invalidate(tx, "k");
      tx.commit();
    }
    for (ClusterCache<String, String> c : caches) {
      await(Duration.ofSeconds(5), "v3 everywhere", () -> "v3".equals(c.get("k", source::load)));
    }
    // A read that bypassed the cache can show v3 before the eviction is applied: wait for it,
    // then check that the rolled-back one never arrives.
    await(
        Duration.ofSeconds(5),
        "the committed eviction applied",
        () -> caches.get(2).stats().evictionsApplied() >= applied + 1);
    Thread.sleep(300);
    assertThat(caches.get(2).stats().evictionsApplied()).isEqualTo(applied + 1);

    caches.get(1).invalidateAll();
    for (ClusterCache<String, String> c : caches) {
      await(Duration.ofSeconds(5), "emptied everywhere", () -> c.size() == 0);
    }
  }

  /**
   * A value loaded before a data change must not stay cached after that change's eviction.
   * (Caffeine's invalidate waits for an in-flight load today; the cache's generation check keeps
   * this true even if it did not.)
   */
  @Test
  void aLoadThatRacesAnEvictionDoesNotLeaveTheOldValueCached() throws Exception {
    EventLog a = startLog(store(), config("a").build());
    EventLog b = startLog(store(), config("b").build());
    ClusterCache<String, String> cacheA =
        closeLater(ClusterCache.<String, String>builder(a, "race").build());
    ClusterCache<String, String> cacheB =
        closeLater(ClusterCache.<String, String>builder(b, "race").build());
    Source source = new Source();
    source.rows.put("k", "new");
    CountDownLatch loading = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<String> slow =
          pool.submit(
              () ->
                  cacheB.get(
                      "k",
                      k -> {
                        loading.countDown();
                        try {
                          Thread.sleep(400); // read "old" before the change, return it late
                        } catch (InterruptedException e) {
                          Thread.currentThread().interrupt();
                        }
                        return "old";
                      }));
      assertThat(loading.await(5, TimeUnit.SECONDS)).isTrue();
      cacheA.invalidate("k"); // the change commits while B is still loading
      assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("old");
    } finally {
      pool.shutdownNow();
    }
    await(Duration.ofSeconds(5), "the eviction on b", () -> cacheB.stats().evictionsApplied() >= 1);
    assertThat(cacheB.get("k", source::load)).isEqualTo("new");
  }

  /**
   * The staleness bound, driven by a manual ticker: a master whose log cannot be confirmed within
   * the bound (its database link is cut) sends reads to the loader; once it has caught up, it
   * applies the missed eviction and serves from its cache again. It never serves the evicted value.
   */
  @Test
  void aMasterThatCannotConfirmItsLogBypassesItsCacheUntilCaughtUp() throws Exception {
    FaultProxy proxy = closeLater(FaultProxy.forUrl(database().jdbcUrl()));
    ManualTicker ticker = new ManualTicker();
    Source source = new Source();
    source.rows.put("k", "v1");
    EventLog a = startLog(store(), config("a").build());
    EventLog c =
        startLog(
            closeLater(openStore(proxy.jdbcUrl(database().jdbcUrl()))),
            config("c").ticker(ticker).build());
    ClusterCache<String, String> cacheA =
        closeLater(ClusterCache.<String, String>builder(a, "sessions").build());
    ClusterCache<String, String> cacheC =
        closeLater(
            ClusterCache.<String, String>builder(c, "sessions")
                .maxStaleness(Duration.ofSeconds(1))
                .build());
    assertThat(cacheC.get("k", source::load)).isEqualTo("v1");
    assertThat(cacheC.get("k", source::load)).isEqualTo("v1");
    assertThat(cacheC.stats().hits()).isEqualTo(1);

    proxy.mode(FaultProxy.Mode.BLACKHOLE);
    source.rows.put("k", "v2");
    cacheA.invalidate("k");
    ticker.advance(Duration.ofSeconds(2));
    int loadsBefore = source.loads.get();
    for (int i = 0; i < 5; i++) {
      assertThat(cacheC.get("k", source::load)).isEqualTo("v2");
    }
    assertThat(cacheC.stats().bypasses()).isEqualTo(5);
    assertThat(source.loads.get() - loadsBefore).isEqualTo(5);
    // However often it is asked, the cut-off reader cannot confirm: reads keep bypassing.
    for (int i = 0; i < 3; i++) {
      c.requestConfirmation();
      Thread.sleep(150);
    }
    assertThat(c.confirmedWithin(Duration.ofSeconds(1))).isFalse();
    assertThat(cacheC.get("k", source::load)).isEqualTo("v2");
    assertThat(cacheC.stats().bypasses()).isEqualTo(6);

    proxy.mode(FaultProxy.Mode.OPEN);
    await(
        Duration.ofSeconds(20),
        "the cut-off master caught up",
        () -> {
          c.requestConfirmation();
          return c.confirmedWithin(Duration.ofSeconds(1));
        });
    assertThat(cacheC.stats().evictionsApplied()).isEqualTo(1);
    assertThat(cacheC.get("k", source::load)).isEqualTo("v2"); // a miss: v1 was evicted
    long hits = cacheC.stats().hits();
    assertThat(cacheC.get("k", source::load)).isEqualTo("v2");
    assertThat(cacheC.stats().hits()).isEqualTo(hits + 1);
  }

  /** The heartbeat confirms a log that is up to date, and only then; nothing reads at rest. */
  @Test
  void theHeartbeatConfirmsAnUpToDateLogWithoutAnyRead() throws Exception {
    ManualTicker ticker = new ManualTicker();
    EventStore store = store();
    EventLog log =
        startLog(
            store,
            config("hb")
                .safetyPollInterval(Duration.ofMinutes(5))
                .pollInterval(Duration.ofMinutes(5))
                .ticker(ticker)
                .build());
    ticker.advance(Duration.ofSeconds(5));
    assertThat(log.confirmedWithin(Duration.ofSeconds(1))).isFalse();
    assertThat(log.confirmationAge())
        .hasValueSatisfying(age -> assertThat(age).isGreaterThanOrEqualTo(Duration.ofSeconds(5)));
    long head = store.head();
    log.onHeartbeat(head, ticker.nanos());
    assertThat(log.confirmedWithin(Duration.ofSeconds(1))).isTrue();

    // A head beyond the position confirms nothing by itself; it wakes the reader, which reads.
    long seq = store.publish(name("other"), name("t"), "k", null);
    ticker.advance(Duration.ofSeconds(5));
    Ticker frozen = ticker;
    long at = frozen.nanos();
    log.onHeartbeat(seq, at);
    assertThat(log.awaitDelivered(seq, Duration.ofSeconds(5))).isTrue();
    await(
        Duration.ofSeconds(5),
        "the reader's confirmation",
        () -> log.confirmedWithin(Duration.ofSeconds(1)));
  }
}
