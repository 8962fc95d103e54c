package io.arbiter.peer;

import java.util.List;
import java.util.Optional;

/**
 * Where the peer link learns who its peers are: the members the database knows, with the facts the
 * database holds about their leases. The database is the source of truth; the link only adds its
 * own channel beside it.
 *
 * <p>{@link #snapshot()} is called from the link's own directory thread (never from the thread that
 * sends pings), so an implementation that reads the database may block while the database is
 * unreachable; the link keeps using the previous snapshot and judges it by its age.
 */
@FunctionalInterface
public interface PeerDirectory {

  /**
   * The members as recently known, including this master's own row (which the link skips) and rows
   * that are no longer ACTIVE (a member cut off from the database keeps its EXPIRED row).
   *
   * @throws RuntimeException if the members cannot be read now; the link tries again later
   */
  Snapshot snapshot();

  /**
   * The members table as read at one moment.
   *
   * @param takenAtNanos the reader's monotonic clock ({@link io.arbiter.time.Ticker}) when the read
   *     was sent: lease figures are extrapolated from this instant, which errs towards "less lease
   *     left" and "longer since the last renewal"
   */
  record Snapshot(long takenAtNanos, List<Member> members) {
    public Snapshot {
      members = List.copyOf(members);
    }
  }

  /**
   * One member row.
   *
   * @param name the member's name
   * @param incarnation the incarnation in the row
   * @param peerAddress the "host:port" the member's peer link listens on, if it advertises one
   * @param active whether the row is in state ACTIVE
   * @param leaseLeftMillis lease_expires minus the database's now (negative once passed)
   * @param millisSinceRenewal the database's now minus renewed_at
   */
  record Member(
      String name,
      long incarnation,
      Optional<String> peerAddress,
      boolean active,
      long leaseLeftMillis,
      long millisSinceRenewal) {}
}
