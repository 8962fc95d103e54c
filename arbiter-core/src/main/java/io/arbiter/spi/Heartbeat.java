package io.arbiter.spi;

import io.arbiter.MemberId;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What one renewal statement tells a master besides whether its lease was extended: the cluster's
 * change epoch and the leases of the live members. This is the whole cost of a master at rest: from
 * it, the master knows when to look again (a changed epoch, or the moment another lease runs out)
 * without any other statement.
 *
 * @param renewed false if the lease had already run out or was superseded: the master must not act
 *     and must rejoin
 * @param changeEpoch a counter bumped by every change of members, claims or rules
 * @param eventHead the last sequence number of the cluster event log, or -1 if the store has none:
 *     a master whose event reader is at this number knows it missed nothing up to the heartbeat
 * @param leases every member row, with its remaining lease by the store's clock (possibly negative:
 *     overdue, not yet marked expired); the members table holds one row per master name, so this
 *     stays small
 * @param ownRenewalAgeMillis the store's now minus this member's <em>previous</em> renewal (or its
 *     join), measured by the store in the same statement, before this renewal overwrote it; -1 if
 *     the store cannot tell. Compared with the time the master measured on its own monotonic clock
 *     since it sent that renewal, it shows a step of the store's clock
 */
public record Heartbeat(
    boolean renewed,
    long changeEpoch,
    List<Lease> leases,
    long eventHead,
    long ownRenewalAgeMillis) {
  public Heartbeat {
    leases = List.copyOf(leases);
  }

  /** A heartbeat from a store that does not measure the age of the member's own renewal. */
  public Heartbeat(boolean renewed, long changeEpoch, List<Lease> leases, long eventHead) {
    this(renewed, changeEpoch, leases, eventHead, -1);
  }

  /** A heartbeat from a store without an event log. */
  public Heartbeat(boolean renewed, long changeEpoch, List<Lease> leases) {
    this(renewed, changeEpoch, leases, -1, -1);
  }

  /**
   * A member's lease as the store's clock saw it during the renewal.
   *
   * @param active the row is marked ACTIVE (not yet stopped or expired)
   * @param millisSinceRenewal the store's now minus the member's last renewal
   */
  public record Lease(
      String name,
      long incarnation,
      boolean active,
      long leftMillis,
      long millisSinceRenewal,
      java.util.Optional<String> peerAddress) {}

  /** Live-marked members whose lease has run out by the store's clock. */
  public int overdue() {
    return (int) leases.stream().filter(l -> l.active() && l.leftMillis() <= 0).count();
  }

  /** Time until the soonest lease of another live member runs out, if any. */
  public Optional<Duration> nextExpiry(MemberId self) {
    return leases.stream()
        .filter(l -> !(l.name().equals(self.name()) && l.incarnation() == self.incarnation()))
        .filter(l -> l.active() && l.leftMillis() > 0)
        .mapToLong(Lease::leftMillis)
        .min()
        .stream()
        .mapToObj(Duration::ofMillis)
        .findFirst();
  }
}
