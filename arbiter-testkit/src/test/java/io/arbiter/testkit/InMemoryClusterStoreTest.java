package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.MemberId;
import io.arbiter.StoreMisconfiguredException;
import io.arbiter.StoreUnavailableException;
import io.arbiter.spi.MemberInfo;
import io.arbiter.testkit.InMemoryClusterStore.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What the in-memory store adds for tests, beyond the contract: a clock the test moves, connections
 * with faults of their own, and pushes.
 */
class InMemoryClusterStoreTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static final MemberInfo INFO = new MemberInfo("test-host", 1);

  private final ManualTicker clock = new ManualTicker();
  private final InMemoryClusterStore database = new InMemoryClusterStore(clock);

  @Test
  void leasesRunOutOnlyWhenTheClockMoves() throws Exception {
    MemberId m = database.join("m", TTL, Optional.empty(), INFO);
    Thread.sleep(50);
    assertThat(database.renew(m, TTL)).isTrue();
    clock.advance(TTL.minusMillis(1));
    assertThat(database.renew(m, TTL)).as("renewed 1 ms before the end").isTrue();
    clock.advance(TTL);
    assertThat(database.renew(m, TTL)).as("renewed at the end").isFalse();
    assertThat(database.expireOverdueMembers()).isEqualTo(1);
  }

  @Test
  void aFaultCutsOneConnectionOnly() {
    InMemoryClusterStore a = database.connect();
    InMemoryClusterStore b = database.connect();
    MemberId ma = a.join("a", TTL, Optional.empty(), INFO);

    a.fault(Fault.UNAVAILABLE);
    assertThatThrownBy(() -> a.renew(ma, TTL))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("renewing the lease of a#1");
    b.join("b", TTL, Optional.empty(), INFO);
    assertThat(database.status().members()).hasSize(2);

    a.fault(Fault.REFUSED);
    assertThatThrownBy(a::initialize).isInstanceOf(StoreMisconfiguredException.class);

    a.fault(Fault.NONE);
    assertThat(a.renew(ma, TTL)).isTrue();
  }

  @Test
  void aHungCallGoesThroughWhenTheFaultIsLifted() throws Exception {
    InMemoryClusterStore a = database.connect();
    MemberId m = a.join("a", TTL, Optional.empty(), INFO);
    a.fault(Fault.HANG);
    CompletableFuture<Boolean> renewal = CompletableFuture.supplyAsync(() -> a.renew(m, TTL));
    Thread.sleep(100);
    assertThat(renewal).isNotDone();
    a.fault(Fault.NONE);
    assertThat(renewal.get(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void everyChangeIsPushedToTheConnectionsThatCanHearIt() throws Exception {
    InMemoryClusterStore a = database.connect();
    InMemoryClusterStore b = database.connect();
    AtomicInteger heardByA = new AtomicInteger();
    AtomicInteger heardByB = new AtomicInteger();
    a.subscribe(heardByA::incrementAndGet, Duration.ofSeconds(1));
    AutoCloseable subscriptionOfB = b.subscribe(heardByB::incrementAndGet, Duration.ofSeconds(1));

    MemberId m = a.join("a", TTL, Optional.empty(), INFO);
    assertThat(heardByA).as("its own change too, as NOTIFY").hasValue(1);
    assertThat(heardByB).hasValue(1);

    a.renew(m, TTL);
    assertThat(heardByB).as("a renewal is no change").hasValue(1);

    b.fault(Fault.UNAVAILABLE);
    a.register(List.of("svc"));
    assertThat(heardByA).hasValue(2);
    assertThat(heardByB).as("lost while cut off").hasValue(1);

    b.fault(Fault.NONE);
    subscriptionOfB.close();
    a.claim(m, List.of("svc"));
    assertThat(heardByA).hasValue(3);
    assertThat(heardByB).as("after the subscription was closed").hasValue(1);
  }

  @Test
  void closingAConnectionLeavesTheDatabase() {
    InMemoryClusterStore a = database.connect();
    MemberId m = a.join("a", TTL, Optional.empty(), INFO);
    a.close();
    assertThatThrownBy(() -> a.renew(m, TTL)).isInstanceOf(StoreUnavailableException.class);
    assertThat(database.connect().renew(m, TTL)).isTrue();
  }
}
