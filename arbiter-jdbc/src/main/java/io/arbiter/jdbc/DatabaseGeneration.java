package io.arbiter.jdbc;

import io.arbiter.MemberId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which history of the database a master is talking to, so that an asynchronous failover cannot
 * hand a fencing token out twice.
 *
 * <p>A failover to an asynchronous replica loses the commits the replica had not received: the new
 * primary's rows are older than what the masters did and told the world. A token or incarnation
 * counted up from those rows would repeat one already handed out. PostgreSQL starts a new
 * <em>timeline</em> at every promotion (and every point-in-time recovery), and timeline ids only
 * grow. Arbiter calls it the database's generation and uses it three ways:
 *
 * <ul>
 *   <li>every new token, incarnation and event number is at least {@code (generation - 1) *} {@link
 *       #STRIDE}, so those of a newer timeline are above everything an older one gave out (on
 *       timeline 1, the floor is 0: nothing changes);
 *   <li>a master that joined on one generation and renews on another is told its lease is gone: it
 *       stops what it runs and rejoins, under a new incarnation;
 *   <li>a store that saw the generation change makes no claim for one lease TTL after it noticed,
 *       so that every master still running what the lost commits gave it has reached the end of the
 *       lease it last renewed on the old primary, and stopped.
 * </ul>
 *
 * <p>MariaDB has no such number (its generation is always 0): use semi-synchronous replication or
 * Galera there (docs/database-failover.md).
 */
final class DatabaseGeneration {
  /**
   * Tokens, incarnations and event numbers of generation {@code g} start at {@code (g - 1) *
   * STRIDE}: a thousand million grants of one service per timeline (one a second for 31 years).
   */
  static final long STRIDE = 1_000_000_000L;

  private static final Logger log = LoggerFactory.getLogger(DatabaseGeneration.class);

  private final String generation;
  private final String floor;
  private final String database;
  private final Map<MemberId, Long> joinedOn = new ConcurrentHashMap<>();
  private volatile long lastSeen = -1;
  private volatile long claimsHeldUntilNanos = System.nanoTime();

  DatabaseGeneration(Dialect dialect, String database) {
    this.generation = dialect.generation();
    this.floor = "((" + generation + ") - 1) * " + STRIDE;
    this.database = database;
  }

  /** The generation as a SQL expression (a BIGINT), for a SELECT list. */
  String expression() {
    return generation;
  }

  /** The lowest token, incarnation or event number this generation may give out, as SQL. */
  String floor() {
    return floor;
  }

  /** Reads the generation in {@code c}'s transaction. */
  long read(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + generation);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Records the generation {@code member} joined on (read in its join's transaction). */
  void joined(MemberId member, long generation, Duration ttl) {
    joinedOn.keySet().removeIf(m -> m.name().equals(member.name()));
    joinedOn.put(member, generation);
    seen(generation, ttl);
  }

  /**
   * Checks a renewal's generation against the one {@code member} joined on; false (the lease must
   * be treated as gone) if they differ.
   */
  boolean renewalValid(MemberId member, long generation, Duration ttl) {
    seen(generation, ttl);
    Long joined = joinedOn.get(member);
    if (joined == null || joined == generation) {
      return true;
    }
    log.warn(
        "{} joined {} on timeline {}, and the database is now on timeline {}: it failed over, and"
            + " commits acknowledged before may be lost; {} stops its services and rejoins",
        member,
        database,
        joined,
        generation,
        member);
    return false;
  }

  /** True while claims wait for the masters of an older generation to reach their lease's end. */
  boolean claimsHeld() {
    return System.nanoTime() - claimsHeldUntilNanos < 0;
  }

  private void seen(long generation, Duration ttl) {
    long before = lastSeen;
    if (before == generation) {
      return;
    }
    lastSeen = generation;
    if (before >= 0) {
      claimsHeldUntilNanos = System.nanoTime() + ttl.toNanos();
      log.warn(
          "{} moved from timeline {} to timeline {} (a failover): no claims for {} ms, until every"
              + " master that acted on the old timeline has reached the end of its lease",
          database,
          before,
          generation,
          ttl.toMillis());
    }
  }
}
