package io.arbiter.sessions;

import java.time.Instant;
import java.util.Map;

/**
 * A validated web session as a request sees it: a snapshot at most {@link
 * SessionConfig#staleness()} old.
 *
 * @param id the session id, a bearer secret (left out of {@link #toString()})
 * @param principal who is logged in
 * @param attributes name to value, unmodifiable
 * @param createdAt when the session was created, by the database's clock
 */
public record Session(
    String id, String principal, Map<String, String> attributes, Instant createdAt) {

  public Session {
    attributes = Map.copyOf(attributes);
  }

  public String attribute(String name) {
    return attributes.get(name);
  }

  @Override
  public String toString() {
    return "Session[principal=" + principal + ", attributes=" + attributes.keySet() + "]";
  }
}
