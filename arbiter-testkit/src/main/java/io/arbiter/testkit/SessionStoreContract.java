package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.sessions.InvalidSessionDataException;
import io.arbiter.sessions.SessionIds;
import io.arbiter.spi.SessionStore;
import io.arbiter.spi.StoredSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link SessionStore} must guarantee. A backend's test subclasses it and says how to
 * open a store on an empty (or reusable) database. Expiry tests use timeouts of a few hundred
 * milliseconds; the store judges them by the database's clock, so the sleeps here only need to be
 * long enough on any clock.
 */
public abstract class SessionStoreContract {
  private static final Duration LONG = Duration.ofMinutes(5);

  protected SessionStore store;

  /** A store on the test database, schema creation allowed. */
  protected abstract SessionStore openStore();

  @BeforeEach
  void open() {
    store = openStore();
    store.initialize();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  @Test
  void createdSessionReadsBackWithItsPrincipalAttributesAndDatabaseTimes() {
    StoredSession created = store.create("alice", Map.of("theme", "dark", "lang", "en"), LONG);

    assertThat(SessionIds.isWellFormed(created.id())).isTrue();
    Optional<StoredSession> read = store.read(created.id());
    assertThat(read).isPresent();
    StoredSession s = read.get();
    assertThat(s.id()).isEqualTo(created.id());
    assertThat(s.principal()).isEqualTo("alice");
    assertThat(s.attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("theme", "dark", "lang", "en"));
    assertThat(s.maxInactive()).isEqualTo(LONG);
    // expires_at was computed by the database from its own clock: last access + max inactive.
    assertThat(Duration.between(s.lastAccessAt(), s.expiresAt()).toMillis())
        .isBetween(LONG.toMillis() - 5, LONG.toMillis() + 5);
    assertThat(s.remaining()).isPositive().isLessThanOrEqualTo(LONG);
    assertThat(s.idle()).isLessThan(Duration.ofSeconds(5));
    assertThat(s.createdAt()).isNotNull();
    assertThat(s.toString()).doesNotContain(created.id());
  }

  @Test
  void idsAreUniqueRandomAndUrlSafe() {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      ids.add(store.create("u" + i, Map.of(), LONG).id());
    }
    assertThat(ids).hasSize(50).allMatch(SessionIds::isWellFormed);
    assertThat(store.count()).isEqualTo(50);
  }

  @Test
  void unknownAndMalformedIdsAreAnsweredAsAbsentWithoutAnException() {
    store.create("alice", Map.of(), LONG);
    List<String> bad = new ArrayList<>();
    bad.add(SessionIds.newId()); // well formed, never created
    bad.add(null);
    bad.add("");
    bad.add("not-a-session");
    bad.add("' OR '1'='1");
    bad.add("x".repeat(10_000));
    bad.add("+".repeat(SessionIds.ID_LENGTH)); // right length, wrong alphabet
    for (String id : bad) {
      assertThat(store.read(id)).as("read %s", id).isEmpty();
      assertThat(store.touch(id)).as("touch %s", id).isFalse();
      assertThat(store.setAttribute(id, "a", "b")).as("setAttribute %s", id).isFalse();
      assertThat(store.removeAttribute(id, "a")).as("removeAttribute %s", id).isFalse();
      assertThat(store.invalidate(id)).as("invalidate %s", id).isFalse();
    }
    assertThat(store.count()).isEqualTo(1);
  }

  @Test
  void attributesAreSetOverwrittenAndRemovedOneByOne() {
    String id = store.create("bob", Map.of("a", "1"), LONG).id();

    assertThat(store.setAttribute(id, "b", "2")).isTrue();
    assertThat(store.setAttribute(id, "a", "one")).isTrue();
    assertThat(store.read(id).orElseThrow().attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", "one", "b", "2"));

    assertThat(store.removeAttribute(id, "a")).isTrue();
    assertThat(store.removeAttribute(id, "a")).isFalse();
    assertThat(store.read(id).orElseThrow().attributes()).containsExactly(Map.entry("b", "2"));

    String json = "{\"cart\":[1,2,3],\"note\":\"caf\u00e9 \u2603\"}";
    assertThat(store.setAttribute(id, "json", json)).isTrue();
    assertThat(store.read(id).orElseThrow().attributes().get("json")).isEqualTo(json);
  }

  @Test
  void valuesBeyondTheLimitsAreRejectedWithAClearErrorAndNothingIsWritten() {
    String id = store.create("carol", Map.of(), LONG).id();
    String tooLong = "v".repeat(SessionStore.MAX_ATTRIBUTE_VALUE_LENGTH + 1);

    assertThatThrownBy(() -> store.setAttribute(id, "big", tooLong))
        .isInstanceOf(InvalidSessionDataException.class)
        .hasMessageContaining("attribute 'big'")
        .hasMessageContaining("at most " + SessionStore.MAX_ATTRIBUTE_VALUE_LENGTH)
        .hasMessageContaining("(" + tooLong.length() + " characters)");
    assertThatThrownBy(
            () ->
                store.setAttribute(id, "n".repeat(SessionStore.MAX_ATTRIBUTE_NAME_LENGTH + 1), "v"))
        .isInstanceOf(InvalidSessionDataException.class)
        .hasMessageContaining("attribute name");
    assertThatThrownBy(() -> store.setAttribute(id, "x", null))
        .isInstanceOf(InvalidSessionDataException.class)
        .hasMessageContaining("must not be null");
    assertThatThrownBy(
            () -> store.create("p".repeat(SessionStore.MAX_PRINCIPAL_LENGTH + 1), Map.of(), LONG))
        .isInstanceOf(InvalidSessionDataException.class)
        .hasMessageContaining("principal");
    assertThatThrownBy(() -> store.create(" ", Map.of(), LONG))
        .isInstanceOf(InvalidSessionDataException.class)
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> store.create("dave", Map.of("big", tooLong), LONG))
        .isInstanceOf(InvalidSessionDataException.class);

    assertThat(store.read(id).orElseThrow().attributes()).isEmpty();
    assertThat(store.count()).isEqualTo(1);
    // The largest allowed value fits, in both databases.
    String largest = "\u00e9".repeat(SessionStore.MAX_ATTRIBUTE_VALUE_LENGTH);
    assertThat(store.setAttribute(id, "largest", largest)).isTrue();
    assertThat(store.read(id).orElseThrow().attributes().get("largest")).isEqualTo(largest);
  }

  @Test
  void aSessionExpiresAfterMaxInactiveAndNeverComesBack() throws InterruptedException {
    String id = store.create("erin", Map.of("k", "v"), Duration.ofMillis(400)).id();
    assertThat(store.read(id)).isPresent();

    Thread.sleep(700);

    assertThat(store.read(id)).isEmpty();
    assertThat(store.touch(id)).as("a touch must not revive an expired session").isFalse();
    assertThat(store.setAttribute(id, "k2", "v2")).isFalse();
    assertThat(store.read(id)).isEmpty();
    assertThat(store.count()).as("expired but not yet purged").isEqualTo(1);
  }

  @Test
  void aTouchExtendsTheSessionFromTheDatabasesNow() throws InterruptedException {
    Duration max = Duration.ofMillis(1200);
    String id = store.create("frank", Map.of(), max).id();
    StoredSession before = store.read(id).orElseThrow();

    Thread.sleep(700);
    assertThat(store.touch(id)).isTrue();
    StoredSession after = store.read(id).orElseThrow();
    assertThat(after.expiresAt()).isAfter(before.expiresAt().plusMillis(500));
    assertThat(after.lastAccessAt()).isAfter(before.lastAccessAt());
    assertThat(after.idle()).isLessThan(Duration.ofMillis(500));

    Thread.sleep(700); // 1400 ms after creation: alive only because of the touch
    assertThat(store.read(id)).isPresent();

    Thread.sleep(800); // 1500 ms after the touch
    assertThat(store.read(id)).isEmpty();
  }

  @Test
  void invalidateDeletesTheSessionAndItsAttributes() {
    String id = store.create("gina", Map.of("a", "1"), LONG).id();
    String other = store.create("gina", Map.of(), LONG).id();

    assertThat(store.invalidate(id)).isTrue();
    assertThat(store.invalidate(id)).isFalse();
    assertThat(store.read(id)).isEmpty();
    assertThat(store.touch(id)).isFalse();
    assertThat(store.setAttribute(id, "a", "2")).isFalse();
    assertThat(store.read(other)).as("other sessions of the principal stay").isPresent();
    assertThat(store.count()).isEqualTo(1);
  }

  @Test
  void purgeDeletesOnlyExpiredSessionsInBoundedBatches() throws InterruptedException {
    List<String> live = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      store.create("short" + i, Map.of("a", "b"), Duration.ofMillis(200));
    }
    for (int i = 0; i < 2; i++) {
      live.add(store.create("long" + i, Map.of("a", "b"), LONG).id());
    }
    Thread.sleep(500);

    assertThat(store.purgeExpired(3)).isEqualTo(3);
    assertThat(store.purgeExpired(3)).isEqualTo(3);
    assertThat(store.purgeExpired(3)).isEqualTo(1);
    assertThat(store.purgeExpired(3)).isZero();
    assertThat(store.count()).isEqualTo(2);
    for (String id : live) {
      assertThat(store.read(id)).isPresent();
    }
  }

  /**
   * Many threads read, touch and write one session while two others invalidate it: exactly one
   * invalidation wins, and once it has returned no read (on any connection) finds the session; no
   * touch or attribute write revives it. The clock starts at the winner's return: the one that
   * reports false has found the row deleted (or being deleted) by the other, and is not what a
   * logout's guarantee rests on. A failure names the operation and the round.
   */
  @Test
  void afterInvalidateNoConcurrentReadOrTouchSeesTheSession() throws Exception {
    int rounds = 15;
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads + 2);
    try {
      for (int round = 0; round < rounds; round++) {
        String id = store.create("hank", Map.of("n", "0"), LONG).id();
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger deleted = new AtomicInteger(); // 1 once the winning invalidate has returned
        AtomicInteger winners = new AtomicInteger();
        List<String> seenAfter = Collections.synchronizedList(new ArrayList<>());
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int me = t;
          work.add(
              pool.submit(
                  () -> {
                    start.await();
                    for (int i = 0; i < 40; i++) {
                      boolean after = deleted.get() == 1;
                      Optional<StoredSession> read = store.read(id);
                      boolean touched = store.touch(id);
                      boolean wrote = store.setAttribute(id, "t" + me, String.valueOf(i));
                      if (after) {
                        if (read.isPresent()) {
                          seenAfter.add("read");
                        }
                        if (touched) {
                          seenAfter.add("touch");
                        }
                        if (wrote) {
                          seenAfter.add("setAttribute");
                        }
                      }
                    }
                    return null;
                  }));
        }
        for (int t = 0; t < 2; t++) {
          work.add(
              pool.submit(
                  () -> {
                    start.await();
                    Thread.sleep(5);
                    if (store.invalidate(id)) {
                      winners.incrementAndGet();
                      deleted.set(1);
                    }
                    return null;
                  }));
        }
        start.countDown();
        for (Future<?> f : work) {
          f.get(60, TimeUnit.SECONDS);
        }
        assertThat(winners.get()).as("round %d: invalidations that deleted", round).isEqualTo(1);
        assertThat(seenAfter)
            .as("round %d: operations that saw the session after it was deleted", round)
            .isEmpty();
        assertThat(store.read(id)).isEmpty();
        assertThat(store.invalidate(id)).as("round %d: a later invalidate", round).isFalse();
      }
      assertThat(store.count()).isZero();
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
