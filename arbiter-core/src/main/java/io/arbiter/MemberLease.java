package io.arbiter;

import io.arbiter.time.Ticker;
import java.time.Duration;

/**
 * This master's own view of its lease, on its monotonic clock. The deadline is measured from the
 * moment the last successful renewal was <em>sent</em>: the database stamped the lease at or after
 * that moment, so the database's expiry is never earlier than ours (less the self-fence margin,
 * which covers clock-rate drift and the time stop callbacks take).
 */
final class MemberLease {
  private final Ticker ticker;
  private final long validNanos;

  private MemberId current;
  private MemberId previous;
  private long deadlineNanos;
  private long lastRenewalSentNanos;
  private MemberState state = MemberState.STARTING;

  MemberLease(Ticker ticker, Duration ttl, Duration selfFenceMargin) {
    this.ticker = ticker;
    this.validNanos = ttl.minus(selfFenceMargin).toNanos();
  }

  synchronized void joined(MemberId member, long sentAtNanos) {
    current = member;
    lastRenewalSentNanos = sentAtNanos;
    deadlineNanos = sentAtNanos + validNanos;
    state = MemberState.ACTIVE;
  }

  /** Records a successful renewal; false if {@code member} is no longer the current incarnation. */
  synchronized boolean renewed(MemberId member, long sentAtNanos) {
    if (!member.equals(current)) {
      return false;
    }
    lastRenewalSentNanos = Math.max(lastRenewalSentNanos, sentAtNanos);
    deadlineNanos = Math.max(deadlineNanos, sentAtNanos + validNanos);
    state = MemberState.ACTIVE;
    return true;
  }

  /** A renewal failed; true if this turned an ACTIVE lease SUSPECT. */
  synchronized boolean renewalFailed(MemberId member) {
    if (member.equals(current) && state == MemberState.ACTIVE) {
      state = MemberState.SUSPECT;
      return true;
    }
    return false;
  }

  /**
   * Gives up the current incarnation: from now on nothing may act on it. Returns it, or null if
   * there was none (already fenced, or never joined).
   */
  synchronized MemberId fence() {
    if (current == null) {
      return null;
    }
    previous = current;
    current = null;
    state = MemberState.FENCED;
    return previous;
  }

  synchronized void finish(MemberState finalState) {
    if (current != null) {
      previous = current;
    }
    current = null;
    state = finalState;
  }

  /** True if {@code member} is the current incarnation and its lease has not run out locally. */
  synchronized boolean isValid(MemberId member) {
    return member.equals(current) && ticker.nanos() - deadlineNanos < 0;
  }

  /** True if there is a current incarnation whose local deadline has passed. */
  synchronized boolean hasRunOut() {
    return current != null && ticker.nanos() - deadlineNanos >= 0;
  }

  synchronized MemberId current() {
    return current;
  }

  synchronized MemberId previous() {
    return previous;
  }

  synchronized MemberState state() {
    return state;
  }

  synchronized long nanosSinceLastRenewalSent() {
    return ticker.nanos() - lastRenewalSentNanos;
  }

  synchronized long nanosLeft() {
    return current == null ? 0 : deadlineNanos - ticker.nanos();
  }
}
