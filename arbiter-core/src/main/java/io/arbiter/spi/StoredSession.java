package io.arbiter.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * A session as a {@link SessionStore} read it. The times are the store's (the database's clock);
 * {@code idle} and {@code remaining} were measured by that same clock when the row was read, so a
 * caller can plan with them on its own monotonic clock without ever comparing two wall clocks.
 *
 * @param id the session id (the secret a client presents; never log it)
 * @param principal who the session belongs to
 * @param attributes name to value, unmodifiable
 * @param createdAt when the session was created, by the store's clock
 * @param lastAccessAt when it was last touched, by the store's clock
 * @param maxInactive how long it lives without a touch
 * @param expiresAt when it expires unless touched, by the store's clock
 * @param idle how long since the last touch, at the moment of the read
 * @param remaining how long until expiry, at the moment of the read (always positive)
 */
public record StoredSession(
    String id,
    String principal,
    Map<String, String> attributes,
    Instant createdAt,
    Instant lastAccessAt,
    Duration maxInactive,
    Instant expiresAt,
    Duration idle,
    Duration remaining) {

  public StoredSession {
    attributes = Map.copyOf(attributes);
  }

  /** Leaves the id out: it is a bearer secret and must not end up in logs. */
  @Override
  public String toString() {
    return "StoredSession[principal="
        + principal
        + ", attributes="
        + attributes.keySet()
        + ", createdAt="
        + createdAt
        + ", expiresAt="
        + expiresAt
        + "]";
  }
}
