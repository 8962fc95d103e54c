package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.events.Event;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link JdbcEventStore#read} on gaps, on the embedded PostgreSQL: a missing number that both reads
 * agree on is passed over only if the purge watermark covers it. A number above the watermark is an
 * event not visible yet (a transaction still in flight, or a snapshot that missed a commit): the
 * read stops before it, and the event is delivered once it shows, never skipped.
 */
class EventStoreReadGapsTest {
  private TestDatabase db;
  private JdbcArbiter arbiter;
  private JdbcEventStore store;

  @BeforeEach
  void open() {
    db = TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    arbiter =
        JdbcArbiter.builder(db.jdbcUrl())
            .leaseTtl(Duration.ofSeconds(3))
            .poolSize(2)
            .heartbeatPoolSize(0)
            .createSchema(true)
            .build();
    store = arbiter.eventStore();
    store.initializeSchema();
  }

  @AfterEach
  void close() {
    arbiter.close();
    db.close();
  }

  /**
   * Writes event {@code seq} straight into the table, as a transaction holding that number would
   * when it commits, and moves the head up to it: what no purge did.
   */
  private void insertDirectly(long seq) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO arbiter_event (seq, topic, event_key, payload, publisher, created_at)"
                    + " VALUES (?, 't', 'k', NULL, 'm', now())");
        Statement st = c.createStatement()) {
      ps.setLong(1, seq);
      ps.executeUpdate();
      st.executeUpdate(
          "UPDATE arbiter_event_head SET last_seq = GREATEST(last_seq, " + seq + ") WHERE id = 1");
    }
  }

  @Test
  void aGapAboveTheWatermarkIsWaitedForNotSkipped() throws Exception {
    long first = store.publish("m", "t", "k", null);
    // Number first + 1 is missing (not purged: nothing ran a purge) while first + 2 is there.
    insertDirectly(first + 2);
    assertThat(store.read(first - 1, 10))
        .as("the read stops before the number it cannot see yet")
        .extracting(Event::seq)
        .containsExactly(first);
    assertThat(store.read(first, 10)).as("and waits there").isEmpty();
    insertDirectly(first + 1);
    assertThat(store.read(first, 10))
        .as("the missing event, once it shows, comes in order")
        .extracting(Event::seq)
        .containsExactly(first + 1, first + 2);
  }

  @Test
  void aGapAtOrBelowTheWatermarkIsAPurgeAndIsPassedOver() throws Exception {
    long first = store.publish("m", "t", "k", null);
    for (int i = 0; i < 4; i++) {
      store.publish("m", "t", "k", null);
    }
    assertThat(store.purgedThrough()).isZero();
    assertThat(store.purge(Duration.ofDays(1), 2)).isEqualTo(3);
    assertThat(store.purgedThrough()).isEqualTo(first + 2);
    assertThat(store.read(first - 1, 10))
        .extracting(Event::seq)
        .containsExactly(first + 3, first + 4);
  }

  /**
   * Events deleted from the bottom without a watermark (a master of schema version 2 purging during
   * a rolling upgrade): readers wait at the gap until the next purge records it.
   */
  @Test
  void eventsDeletedWithoutAWatermarkAreRecordedByTheNextPurge() throws Exception {
    long first = store.publish("m", "t", "k", null);
    for (int i = 0; i < 4; i++) {
      store.publish("m", "t", "k", null);
    }
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.executeUpdate("DELETE FROM arbiter_event WHERE seq <= " + (first + 1));
    }
    assertThat(store.read(first - 1, 10)).as("not purged as far as the watermark says").isEmpty();
    assertThat(store.purge(Duration.ofDays(1), 1_000_000)).as("nothing old to delete").isZero();
    assertThat(store.purgedThrough()).isEqualTo(first + 1);
    assertThat(store.read(first - 1, 10))
        .extracting(Event::seq)
        .containsExactly(first + 2, first + 3, first + 4);
  }

  @Test
  void aNumberMissingForLongIsNamedInAWarnAndStillWaitedFor() {
    long[] now = {0};
    MissingEventWatch watch = new MissingEventWatch(() -> now[0], "db");
    assertThat(watch.stoppedBefore(12, 3)).isFalse();
    now[0] += MissingEventWatch.WARN_AFTER.toNanos() - 1;
    assertThat(watch.stoppedBefore(12, 3)).isFalse();
    now[0] += 1;
    assertThat(watch.stoppedBefore(12, 3)).as("the WARN after 10 s").isTrue();
    assertThat(watch.stoppedBefore(12, 3)).as("not at every read").isFalse();
    now[0] += MissingEventWatch.WARN_AGAIN.toNanos();
    assertThat(watch.stoppedBefore(12, 3)).as("again a minute later").isTrue();
    watch.readThrough(12);
    assertThat(watch.stoppedBefore(20, 3)).as("a new missing number starts afresh").isFalse();
  }
}
