package io.arbiter;

/** A configuration value breaks a rule. The message names the field, the value and the rule. */
public final class InvalidConfigException extends ArbiterException {
  private final String field;

  public InvalidConfigException(String field, Object value, String rule) {
    super("invalid config: " + field + " = " + value + ": " + rule);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
