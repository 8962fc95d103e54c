package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.events.ConsumerPosition;
import io.arbiter.events.Event;
import io.arbiter.events.EventLog;
import io.arbiter.spi.EventStore;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A master's first start on a fresh database: its event log must not read before the schema exists.
 * It used to start with the master, before the join created the schema, and its first read failed
 * with a WARN {@code relation "arbiter_event_consumer" does not exist}.
 */
class EventLogFirstStartTest {

  /** Delegates to a store, noting each call that ran before the schema existed or failed. */
  private static final class WatchedStore implements EventStore {
    final EventStore store;
    final TestDatabase db;
    final List<String> problems = new CopyOnWriteArrayList<>();
    volatile boolean schemaSeen;

    WatchedStore(EventStore store, TestDatabase db) {
      this.store = store;
      this.db = db;
    }

    private <T> T call(String what, Supplier<T> call) {
      if (!schemaSeen) {
        schemaSeen = schemaExists();
        if (!schemaSeen) {
          problems.add(what + " called before the schema existed");
        }
      }
      try {
        return call.get();
      } catch (RuntimeException e) {
        problems.add(what + " failed: " + e.getMessage());
        throw e;
      }
    }

    private boolean schemaExists() {
      try (Connection c = db.connect();
          ResultSet rs =
              c.getMetaData()
                  .getTables(null, null, "arbiter_event_consumer", new String[] {"TABLE"})) {
        return rs.next();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int maxPayloadBytes() {
      return store.maxPayloadBytes();
    }

    @Override
    public long publish(String publisher, String topic, String key, byte[] payload) {
      return call("publish", () -> store.publish(publisher, topic, key, payload));
    }

    @Override
    public long publish(
        Connection transaction, String publisher, String topic, String key, byte[] payload) {
      return call("publish", () -> store.publish(transaction, publisher, topic, key, payload));
    }

    @Override
    public List<Event> read(long afterSeq, int limit) {
      return call("read", () -> store.read(afterSeq, limit));
    }

    @Override
    public long head() {
      return call("head", store::head);
    }

    @Override
    public void savePosition(String member, long deliveredSeq) {
      call(
          "savePosition",
          () -> {
            store.savePosition(member, deliveredSeq);
            return null;
          });
    }

    @Override
    public OptionalLong position(String member) {
      return call("position", () -> store.position(member));
    }

    @Override
    public List<ConsumerPosition> positions() {
      return call("positions", store::positions);
    }

    @Override
    public int purge(Duration maxAge, long maxEvents) {
      return call("purge", () -> store.purge(maxAge, maxEvents));
    }

    @Override
    public long purgedThrough() {
      return call("purgedThrough", store::purgedThrough);
    }

    @Override
    public boolean pushesWakeups() {
      return store.pushesWakeups();
    }

    @Override
    public AutoCloseable listen(Runnable onWake, Duration checkInterval) {
      return store.listen(onWake, checkInterval);
    }
  }

  @Test
  void theEventLogOfAMastersFirstStartReadsOnlyOnceTheSchemaExists() throws Exception {
    TestDatabase db =
        TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    ClusterConfig config = ClusterConfig.builder("first").leaseTtl(Duration.ofSeconds(3)).build();
    try (JdbcArbiter arbiter =
        JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build()) {
      WatchedStore events = new WatchedStore(arbiter.eventStore(), db);
      try (Cluster cluster =
          Cluster.builder(arbiter.clusterStore(), config).events(events).build()) {
        cluster.start();
        assertThat(cluster.awaitActive(Duration.ofSeconds(20))).isTrue();
        EventLog log = cluster.events().orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> log.deliveredSeq() >= 0);
        long seq = log.publish("t", "k", null);
        assertThat(log.awaitDelivered(seq, Duration.ofSeconds(10))).isTrue();
      }
      assertThat(events.problems).as("event store calls before the schema existed").isEmpty();
    } finally {
      db.close();
    }
  }
}
