package io.arbiter.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.InvalidConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Validation of the event log's and the cache's settings, and of event limits. */
class EventConfigTest {

  @Test
  void defaultsAreTheNamedConstants() {
    EventLogConfig c = EventLogConfig.builder("m1").build();
    assertThat(c.safetyPollInterval()).isEqualTo(EventLogConfig.DEFAULT_SAFETY_POLL_INTERVAL);
    assertThat(c.pollInterval()).isEqualTo(EventLogConfig.DEFAULT_POLL_INTERVAL);
    assertThat(c.savePositionInterval()).isEqualTo(EventLogConfig.DEFAULT_SAVE_POSITION_INTERVAL);
    assertThat(c.retentionAge()).isEqualTo(EventLogConfig.DEFAULT_RETENTION_AGE);
    assertThat(c.retentionMaxEvents()).isEqualTo(EventLogConfig.DEFAULT_RETENTION_MAX_EVENTS);
    assertThat(ClusterCache.DEFAULT_MAX_STALENESS).isEqualTo(Duration.ofSeconds(1));
    c.onEventsLost().accept(new EventsLost("m1", 1, 2)); // the default does nothing
    assertThat(new EventsLost("m1", 5, 9).count()).isEqualTo(5);
  }

  @Test
  void badSettingsNameTheFieldTheValueAndTheRule() {
    assertThatThrownBy(() -> EventLogConfig.builder("bad name").build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("memberName");
    assertThatThrownBy(() -> EventLogConfig.builder("m").pollInterval(Duration.ZERO).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("pollInterval = PT0S")
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> EventLogConfig.builder("m").batchSize(0).build())
        .hasMessageContaining("batchSize = 0");
    assertThatThrownBy(() -> EventLogConfig.builder("m").onEventsLost(null).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("onEventsLost");
    assertThatThrownBy(
            () ->
                EventLogConfig.builder("m")
                    .retryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1))
                    .build())
        .hasMessageContaining("retryBackoffMax");
    assertThatThrownBy(() -> EventLogConfig.builder("m").retentionMaxEvents(0).build())
        .hasMessageContaining("retentionMaxEvents = 0");
    assertThatThrownBy(() -> EventLimits.validateMaxPayloadBytes(2 * 1024 * 1024))
        .hasMessageContaining("maxPayloadBytes = 2097152");
  }

  @Test
  void aCacheRefusesABadStalenessBoundOrName() {
    EventLog log = new EventLog(null, EventLogConfig.builder("m").build()); // never started
    assertThatThrownBy(() -> ClusterCache.builder(log, "users").maxStaleness(Duration.ZERO).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("maxStaleness = PT0S");
    assertThatThrownBy(() -> ClusterCache.builder(log, "").build())
        .hasMessageContaining("cache name");
  }

  @Test
  void eventLimitsNameTheSizeAndTheLimit() {
    assertThatThrownBy(() -> EventLimits.check("t", "k", new byte[70_000], 65_536))
        .isInstanceOf(InvalidEventException.class)
        .hasMessage(
            "invalid event on topic 't': payload = 70000 bytes: must be at most 65536 bytes (the"
                + " store's maxPayloadBytes): publish the id of the data, not the data");
    assertThatThrownBy(() -> EventLimits.check(" ", null, null, 10))
        .hasMessageContaining("topic")
        .hasMessageContaining("must not be empty");
    EventLimits.check("t", "k".repeat(EventLimits.MAX_KEY_LENGTH), new byte[10], 10); // at limits
  }

  @Test
  void aNewLogIsNotConfirmedAndTheHeartbeatConfirmsOnlyWhatWasDelivered() {
    EventLog log = new EventLog(null, EventLogConfig.builder("m").ticker(() -> 5_000L).build());
    assertThat(log.confirmedAtNanos()).isEmpty();
    assertThat(log.confirmedWithin(Duration.ofDays(1))).isFalse();
    log.onHeartbeat(0, 5_000L); // position not known yet (-1): nothing confirmed
    assertThat(log.confirmedAtNanos()).isEmpty();
  }
}
