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
 * <p>The last two only where commits may have been lost: a generation last seen with synchronous
 * replication ({@link Dialect#synchronousReplication}) had every acknowledged commit on the standby
 * that was promoted, and every earlier commit too (a standby replays the log in order), so the new
 * primary holds everything any master acted on. A move from it is carried on as after a short
 * outage: leases, grants and incarnations stay.
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
  private final Map<Long, Long> losslessMoves = new ConcurrentHashMap<>();
  private final String synchronous;
  private volatile long lastSeen = -1;
  private volatile boolean lastSeenSynchronous;
  private volatile long claimsHeldUntilNanos = System.nanoTime();

  DatabaseGeneration(Dialect dialect, String database) {
    this.generation = dialect.generation();
    this.floor = "((" + generation + ") - 1) * " + STRIDE;
    this.synchronous = dialect.synchronousReplication();
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

  /** Whether commits are acknowledged only once a standby has them, as SQL (a BOOLEAN). */
  String synchronousExpression() {
    return synchronous;
  }

  /** A generation, and whether its commits were replicated synchronously when read. */
  record Reading(long generation, boolean synchronous) {}

  /** Reads the generation in {@code c}'s transaction. */
  Reading read(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + generation + ", " + synchronous);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return new Reading(rs.getLong(1), rs.getBoolean(2));
    }
  }

  /** Records the generation {@code member} joined on (read in its join's transaction). */
  void joined(MemberId member, Reading reading, Duration ttl) {
    joinedOn.keySet().removeIf(m -> m.name().equals(member.name()));
    joinedOn.put(member, reading.generation());
    seen(reading, ttl);
  }

  /**
   * Checks a renewal's generation against the one {@code member} joined on; false (the lease must
   * be treated as gone) if they differ.
   */
  boolean renewalValid(MemberId member, Reading reading, Duration ttl) {
    seen(reading, ttl);
    long generation = reading.generation();
    Long joined = joinedOn.get(member);
    if (joined == null || joined == generation) {
      return true;
    }
    if (reachedWithoutLoss(joined, generation)) {
      joinedOn.put(member, generation);
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

  /** The generation {@code member} joined on through this store; -1 if it did not. */
  long joinedOn(MemberId member) {
    Long g = joinedOn.get(member);
    return g == null ? -1 : g;
  }

  /** True while claims wait for the masters of an older generation to reach their lease's end. */
  boolean claimsHeld() {
    return System.nanoTime() - claimsHeldUntilNanos < 0;
  }

  /** True if every move from {@code from} to {@code to} was from a synchronous generation. */
  private boolean reachedWithoutLoss(long from, long to) {
    long g = from;
    for (int hops = 0; hops < 64 && g != to; hops++) {
      Long next = losslessMoves.get(g);
      if (next == null) {
        return false;
      }
      g = next;
    }
    return g == to;
  }

  private synchronized void seen(Reading reading, Duration ttl) {
    long generation = reading.generation();
    long before = lastSeen;
    boolean beforeSynchronous = lastSeenSynchronous;
    lastSeen = generation;
    lastSeenSynchronous = reading.synchronous();
    if (before == generation) {
      return;
    }
    if (before >= 0 && generation > 0 && beforeSynchronous) {
      losslessMoves.put(before, generation);
      log.warn(
          "{} moved from timeline {} to timeline {} (a failover) with synchronous replication:"
              + " nothing acknowledged was lost; the masters carry on",
          database,
          before,
          generation);
      return;
    }
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
