package io.arbiter.spi;

import io.arbiter.StoreUnavailableException;
import io.arbiter.sessions.InvalidSessionDataException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Web sessions kept in the shared database, so that a login made on one master is valid on every
 * master. A backend implements it once (see arbiter-jdbc's {@code JdbcSessionStore}); the contract
 * test in arbiter-testkit ({@code SessionStoreContract}) says what every method must guarantee.
 *
 * <p>The invariants every backend keeps:
 *
 * <ul>
 *   <li>Expiry is judged by the store's own clock, never by the caller's: a session is live while
 *       {@code expiresAt > now} on the database, and {@code expiresAt} only moves by a touch, to
 *       {@code now + maxInactive} on the database.
 *   <li>An expired or invalidated session never comes back: a touch or an attribute write on it
 *       does nothing and reports false. After an {@link #invalidate} that deleted the session
 *       (returned true) has returned, no read returns the session, whatever other threads or
 *       masters do concurrently. (A concurrent invalidate of the same session reports false: it
 *       found the row deleted, or being deleted, by the other.)
 *   <li>Ids are 256 random bits from a {@link java.security.SecureRandom}, URL-safe base64 (see
 *       {@link io.arbiter.sessions.SessionIds}). A backend may store a hash of the id instead of
 *       the id itself.
 *   <li>Every method answers a malformed id (wrong length or alphabet) as it answers an unknown
 *       one, without an exception.
 * </ul>
 *
 * <p>Every method may throw {@link StoreUnavailableException} when the database does not answer;
 * values beyond the limits below throw {@link InvalidSessionDataException} before any write.
 */
public interface SessionStore extends AutoCloseable {
  /** The longest principal (user name) a session may hold, in characters. */
  int MAX_PRINCIPAL_LENGTH = 255;

  /** The longest attribute name, in characters. */
  int MAX_ATTRIBUTE_NAME_LENGTH = 128;

  /** The longest attribute value, in characters (about 8 KiB of text; store JSON as a string). */
  int MAX_ATTRIBUTE_VALUE_LENGTH = 8192;

  /** Checks (and, when allowed, creates or upgrades) the schema. Safe to call more than once. */
  void initialize();

  /**
   * Creates a session for {@code principal} with a fresh random id that lives {@code maxInactive}
   * from now by the store's clock, with the given attributes, in one transaction.
   */
  StoredSession create(String principal, Map<String, String> attributes, Duration maxInactive);

  /** The session with this id, or empty if there is none or it has expired by the store's clock. */
  Optional<StoredSession> read(String id);

  /**
   * Extends a live session to {@code maxInactive} from now by the store's clock. One write; callers
   * limit how often they call it (see {@link io.arbiter.sessions.ClusterSessions}).
   *
   * @return false if the session does not exist or has already expired (it stays gone)
   */
  boolean touch(String id);

  /**
   * Sets one attribute of a live session (one statement; concurrent writes of different names on
   * different masters do not overwrite each other).
   *
   * @return false if the session does not exist or has expired
   */
  boolean setAttribute(String id, String name, String value);

  /** Removes one attribute; returns true if a live session had it. */
  boolean removeAttribute(String id, String name);

  /** Deletes the session and its attributes; returns true if a row was deleted. */
  boolean invalidate(String id);

  /**
   * Deletes at most {@code maxSessions} sessions that have expired by the store's clock (with their
   * attributes), in one short statement so that it never holds many locks for long.
   *
   * @return how many were deleted; less than {@code maxSessions} means none are left
   */
  int purgeExpired(int maxSessions);

  /** How many sessions are stored, expired ones not yet purged included (for status and tests). */
  long count();

  @Override
  void close();
}
