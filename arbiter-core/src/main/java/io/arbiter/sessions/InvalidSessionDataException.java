package io.arbiter.sessions;

import io.arbiter.ArbiterException;

/**
 * A value given to a session breaks a rule (too long, empty, not allowed). Thrown before anything
 * is written. The message names the field, the value (shortened) and the rule.
 */
public final class InvalidSessionDataException extends ArbiterException {
  private static final int SHOWN_CHARS = 40;

  private final String field;
  private final String rule;

  public InvalidSessionDataException(String field, String value, String rule) {
    super("invalid session data: " + field + " = " + shorten(value) + ": " + rule);
    this.field = field;
    this.rule = rule;
  }

  public String field() {
    return field;
  }

  public String rule() {
    return rule;
  }

  private static String shorten(String value) {
    if (value == null) {
      return "null";
    }
    if (value.length() <= SHOWN_CHARS) {
      return "'" + value + "'";
    }
    return "'" + value.substring(0, SHOWN_CHARS) + "...' (" + value.length() + " characters)";
  }
}
