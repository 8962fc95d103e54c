package io.arbiter;

/**
 * The one unchecked exception Arbiter throws. Subclasses say what went wrong; the message always
 * names the resource (member, service, database) and, where there is one, the fix.
 */
public class ArbiterException extends RuntimeException {
  public ArbiterException(String message) {
    super(message);
  }

  public ArbiterException(String message, Throwable cause) {
    super(message, cause);
  }
}
