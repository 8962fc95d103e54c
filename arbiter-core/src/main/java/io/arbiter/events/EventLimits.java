package io.arbiter.events;

import io.arbiter.InvalidConfigException;

/**
 * The size limits of an event, checked before anything is written. Events are hints that something
 * changed (a cache key, a session id), not a place for bulk data: publish the id of a row instead
 * of the row.
 */
public final class EventLimits {
  /** The default largest payload, in bytes. */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

  /** The largest payload limit that may be configured (the schema's column holds more). */
  public static final int MAX_PAYLOAD_BYTES_CEILING = 1024 * 1024;

  /** Longest topic, in characters (the column is VARCHAR(128)). */
  public static final int MAX_TOPIC_LENGTH = 128;

  /** Longest key, in characters (the column is VARCHAR(512)). */
  public static final int MAX_KEY_LENGTH = 512;

  private EventLimits() {}

  /** Checks a configured payload limit. */
  public static int validateMaxPayloadBytes(int maxPayloadBytes) {
    if (maxPayloadBytes < 0 || maxPayloadBytes > MAX_PAYLOAD_BYTES_CEILING) {
      throw new InvalidConfigException(
          "maxPayloadBytes",
          maxPayloadBytes,
          "must be between 0 and " + MAX_PAYLOAD_BYTES_CEILING + " bytes");
    }
    return maxPayloadBytes;
  }

  /** Throws {@link InvalidEventException} if the event breaks a limit. */
  public static void check(String topic, String key, byte[] payload, int maxPayloadBytes) {
    if (topic == null || topic.isBlank()) {
      throw new InvalidEventException(
          String.valueOf(topic), "topic", "'" + topic + "'", "must not be empty");
    }
    if (topic.length() > MAX_TOPIC_LENGTH) {
      throw new InvalidEventException(
          topic.substring(0, 32) + "...",
          "topic",
          topic.length() + " characters",
          "must be at most " + MAX_TOPIC_LENGTH + " characters");
    }
    if (key != null && key.length() > MAX_KEY_LENGTH) {
      throw new InvalidEventException(
          topic,
          "key",
          key.length() + " characters",
          "must be at most " + MAX_KEY_LENGTH + " characters");
    }
    if (payload != null && payload.length > maxPayloadBytes) {
      throw new InvalidEventException(
          topic,
          "payload",
          payload.length + " bytes",
          "must be at most "
              + maxPayloadBytes
              + " bytes (the store's maxPayloadBytes): publish the id of the data, not the data");
    }
  }
}
