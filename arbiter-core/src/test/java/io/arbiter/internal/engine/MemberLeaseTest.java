package io.arbiter.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.MemberId;
import io.arbiter.MemberState;
import io.arbiter.time.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The lease as the master measures it on its own monotonic clock, driven by hand. */
class MemberLeaseTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final Ticker ticker = now::get;
  private final MemberLease lease =
      new MemberLease(ticker, Duration.ofSeconds(3), Duration.ofMillis(500));
  private final MemberId m = new MemberId("m", 1);

  private void advance(long millis) {
    now.addAndGet(Duration.ofMillis(millis).toNanos());
  }

  @Test
  void theLeaseRunsFromWhenTheRenewalWasSentNotWhenItWasAnswered() {
    long sent = now.get();
    advance(800); // a slow answer
    lease.joined(m, sent);
    advance(1699);
    assertThat(lease.isValid(m)).as("2499 ms after sending").isTrue();
    advance(1);
    assertThat(lease.isValid(m)).as("2500 ms after sending: TTL less the margin").isFalse();
    assertThat(lease.hasRunOut()).isTrue();
  }

  @Test
  void aRenewalExtendsButALateAnswerToAnOldRenewalNeverShortens() {
    lease.joined(m, now.get());
    advance(1000);
    long second = now.get();
    advance(1000);
    lease.renewed(m, now.get());
    lease.renewed(m, second); // an older renewal answered last
    advance(2499);
    assertThat(lease.isValid(m)).isTrue();
  }

  @Test
  void onceFencedAnIncarnationIsNeverValidAgain() {
    lease.joined(m, now.get());
    assertThat(lease.fence("test")).isEqualTo(m);
    assertThat(lease.state()).isEqualTo(MemberState.FENCED);
    assertThat(lease.isValid(m)).isFalse();
    assertThat(lease.renewed(m, now.get())).as("a renewal that lands after the fence").isFalse();
    assertThat(lease.isValid(m)).isFalse();
    assertThat(lease.previous()).isEqualTo(m);
  }

  @Test
  void aFailedRenewalMakesTheLeaseSuspectUntilTheNextSuccess() {
    lease.joined(m, now.get());
    assertThat(lease.renewalFailed(m, "test")).isTrue();
    assertThat(lease.state()).isEqualTo(MemberState.SUSPECT);
    assertThat(lease.isValid(m)).as("still valid while suspect").isTrue();
    lease.renewed(m, now.get());
    assertThat(lease.state()).isEqualTo(MemberState.ACTIVE);
  }
}
