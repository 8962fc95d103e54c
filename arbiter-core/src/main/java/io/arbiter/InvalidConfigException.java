package io.arbiter;

/** A configuration value breaks a rule. The message names the field, the value and the rule. */
public final class InvalidConfigException extends ArbiterException {
  private final String field;
  private final String rule;

  public InvalidConfigException(String field, Object value, String rule) {
    super("invalid config: " + field + " = " + value + ": " + rule);
    this.field = field;
    this.rule = rule;
  }

  /** The same broken rule, reported under another name (a command-line option, say). */
  public InvalidConfigException renamed(String newField, Object value) {
    return new InvalidConfigException(newField, value, rule);
  }

  public String rule() {
    return rule;
  }

  public String field() {
    return field;
  }
}
