package io.arbiter.internal.engine;

import io.arbiter.MemberId;
import io.arbiter.MemberState;
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

  /** Hears every change of {@link #state()}, called after the change, outside the lease's lock. */
  interface StateObserver {
    void changed(MemberState from, MemberState to, MemberId member, String reason);
  }

  private final StateObserver observer;

  MemberLease(Ticker ticker, Duration ttl, Duration selfFenceMargin) {
    this(ticker, ttl, selfFenceMargin, (from, to, member, reason) -> {});
  }

  MemberLease(Ticker ticker, Duration ttl, Duration selfFenceMargin, StateObserver observer) {
    this.ticker = ticker;
    this.validNanos = ttl.minus(selfFenceMargin).toNanos();
    this.observer = observer;
  }

  void joined(MemberId member, long sentAtNanos) {
    MemberState before;
    synchronized (this) {
      before = state;
      current = member;
      lastRenewalSentNanos = sentAtNanos;
      deadlineNanos = sentAtNanos + validNanos;
      state = MemberState.ACTIVE;
    }
    observer.changed(
        before,
        MemberState.ACTIVE,
        member,
        before == MemberState.STARTING ? "joined" : "rejoined as a new incarnation");
  }

  /** Records a successful renewal; false if {@code member} is no longer the current incarnation. */
  boolean renewed(MemberId member, long sentAtNanos) {
    MemberState before;
    synchronized (this) {
      if (!member.equals(current)) {
        return false;
      }
      before = state;
      lastRenewalSentNanos = Math.max(lastRenewalSentNanos, sentAtNanos);
      deadlineNanos = Math.max(deadlineNanos, sentAtNanos + validNanos);
      state = MemberState.ACTIVE;
    }
    if (before != MemberState.ACTIVE) {
      observer.changed(before, MemberState.ACTIVE, member, "the database answers again");
    }
    return true;
  }

  /** A renewal failed; true if this turned an ACTIVE lease SUSPECT. */
  boolean renewalFailed(MemberId member, String reason) {
    synchronized (this) {
      if (!member.equals(current) || state != MemberState.ACTIVE) {
        return false;
      }
      state = MemberState.SUSPECT;
    }
    observer.changed(MemberState.ACTIVE, MemberState.SUSPECT, member, reason);
    return true;
  }

  /**
   * Gives up the current incarnation: from now on nothing may act on it. Returns it, or null if
   * there was none (already fenced, or never joined).
   */
  MemberId fence(String reason) {
    MemberState before;
    MemberId fenced;
    synchronized (this) {
      if (current == null) {
        return null;
      }
      before = state;
      previous = current;
      current = null;
      state = MemberState.FENCED;
      fenced = previous;
    }
    observer.changed(before, MemberState.FENCED, fenced, reason);
    return fenced;
  }

  void finish(MemberState finalState, String reason) {
    MemberState before;
    MemberId member;
    synchronized (this) {
      if (current != null) {
        previous = current;
      }
      member = previous;
      current = null;
      before = state;
      state = finalState;
    }
    if (before != finalState) {
      observer.changed(before, finalState, member, reason);
    }
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
