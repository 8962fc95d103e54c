package io.arbiter.sessions;

import io.arbiter.spi.SessionStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Session ids and the checks every store applies to what goes into a session. An id is 256 bits
 * from a {@link SecureRandom}, written as 43 characters of URL-safe base64 without padding, so it
 * can go into a cookie or a URL as is.
 */
public final class SessionIds {
  /** Random bytes in an id: 256 bits, far beyond guessing. */
  public static final int ID_BYTES = 32;

  /** Characters in an id: 32 bytes in base64 without padding. */
  public static final int ID_LENGTH = 43;

  private static final Pattern WELL_FORMED = Pattern.compile("[A-Za-z0-9_-]{" + ID_LENGTH + "}");
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

  private SessionIds() {}

  /** A new random id. */
  public static String newId() {
    byte[] bytes = new byte[ID_BYTES];
    RANDOM.nextBytes(bytes);
    return ENCODER.encodeToString(bytes);
  }

  /**
   * True if {@code id} could be an id: a cookie that is not is answered as unknown without asking
   * the database (and without an exception).
   */
  public static boolean isWellFormed(String id) {
    return id != null && id.length() == ID_LENGTH && WELL_FORMED.matcher(id).matches();
  }

  /**
   * The SHA-256 of an id in hex, what a store may keep instead of the id: a copy of the table (a
   * backup, a replica) then holds nothing a client could present.
   */
  public static String hash(String id) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** Checks a principal against {@link SessionStore#MAX_PRINCIPAL_LENGTH}. */
  public static void checkPrincipal(String principal) {
    if (principal == null || principal.isBlank()) {
      throw new InvalidSessionDataException("principal", principal, "must not be empty");
    }
    if (principal.length() > SessionStore.MAX_PRINCIPAL_LENGTH) {
      throw new InvalidSessionDataException(
          "principal",
          principal,
          "must be at most " + SessionStore.MAX_PRINCIPAL_LENGTH + " characters");
    }
  }

  /** Checks one attribute against the limits in {@link SessionStore}. */
  public static void checkAttribute(String name, String value) {
    if (name == null || name.isEmpty()) {
      throw new InvalidSessionDataException("attribute name", name, "must not be empty");
    }
    if (name.length() > SessionStore.MAX_ATTRIBUTE_NAME_LENGTH) {
      throw new InvalidSessionDataException(
          "attribute name",
          name,
          "must be at most " + SessionStore.MAX_ATTRIBUTE_NAME_LENGTH + " characters");
    }
    if (value == null) {
      throw new InvalidSessionDataException(
          "attribute '" + name + "'", null, "must not be null (remove the attribute instead)");
    }
    if (value.length() > SessionStore.MAX_ATTRIBUTE_VALUE_LENGTH) {
      throw new InvalidSessionDataException(
          "attribute '" + name + "'",
          value,
          "must be at most "
              + SessionStore.MAX_ATTRIBUTE_VALUE_LENGTH
              + " characters; keep large data elsewhere and store a key to it");
    }
  }

  /** Checks every attribute of a map. */
  public static void checkAttributes(Map<String, String> attributes) {
    attributes.forEach(SessionIds::checkAttribute);
  }
}
