package io.arbiter.events;

import io.arbiter.ArbiterException;

/**
 * An event breaks a limit of the log (payload size, topic or key length). Nothing was published.
 * The message names the topic, the field, its value (or size) and the rule.
 */
public final class InvalidEventException extends ArbiterException {
  private final String field;

  public InvalidEventException(String topic, String field, Object value, String rule) {
    super("invalid event on topic '" + topic + "': " + field + " = " + value + ": " + rule);
    this.field = field;
  }

  /** The part of the event that broke the rule: topic, key or payload. */
  public String field() {
    return field;
  }
}
