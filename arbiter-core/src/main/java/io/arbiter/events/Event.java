package io.arbiter.events;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One entry of the cluster event log, as read back from the database.
 *
 * @param seq its place in the log: numbers are dense and commit in order (see {@link EventLog})
 * @param topic what it is about, chosen by the publisher (a cache's name, say)
 * @param key what within the topic (a cache key), or null for the whole topic
 * @param payload opaque bytes, or null; at most the store's payload limit. The array is the
 *     record's own: do not change it
 * @param publisher the member that published it
 * @param createdAt the database's clock at publish time
 */
public record Event(
    long seq, String topic, String key, byte[] payload, String publisher, Instant createdAt) {

  /** The payload as UTF-8 text, or null. */
  public String payloadText() {
    return payload == null ? null : new String(payload, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "Event[seq="
        + seq
        + ", topic="
        + topic
        + ", key="
        + key
        + ", payload="
        + (payload == null ? "null" : payload.length + " bytes")
        + ", publisher="
        + publisher
        + "]";
  }
}
