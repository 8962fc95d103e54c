package io.arbiter;

/**
 * One incarnation of a master: its name and the number it was given when it joined. A master that
 * rejoins (after a restart or after losing its lease) gets a higher incarnation.
 */
public record MemberId(String name, long incarnation) {
  @Override
  public String toString() {
    return name + "#" + incarnation;
  }
}
