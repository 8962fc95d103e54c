package io.arbiter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.ClusterStatus;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.MemberNameInUseException;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.spi.ClusterStore;
import io.arbiter.spi.Heartbeat;
import io.arbiter.spi.MemberInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ClusterStore} must guarantee. A backend's test subclasses this and says how to
 * open a store on a fresh database; every test uses names of its own, so they can share one.
 */
public abstract class ClusterStoreContract {
  protected static final Duration TTL = Duration.ofSeconds(3);
  protected static final Duration SHORT_TTL = Duration.ofMillis(600);
  protected static final MemberInfo INFO = new MemberInfo("test-host", 1);

  private final List<ClusterStore> opened = new ArrayList<>();
  private final String prefix = "t" + UUID.randomUUID().toString().substring(0, 8) + "-";

  /** Opens a new store (its own connections) on this class's database, schema creation allowed. */
  protected abstract ClusterStore openStore(Duration leaseTtl);

  protected ClusterStore store() {
    return store(TTL);
  }

  protected ClusterStore store(Duration leaseTtl) {
    ClusterStore store = openStore(leaseTtl);
    opened.add(store);
    store.initialize();
    return store;
  }

  /**
   * Lets {@code d} pass on the store's clock, by which leases are judged. A database's clock runs
   * by itself, so this sleeps; a store whose clock the test drives (the in-memory one) moves it
   * instead, and the lease tests take no time.
   */
  protected void passTime(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis());
  }

  /** A name unique to this test instance. */
  protected String name(String base) {
    return prefix + base;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(ClusterStore::close);
  }

  @Test
  void initializeIsIdempotent() {
    ClusterStore store = store();
    store.initialize();
    ClusterStore other = store();
    other.initialize();
    // The schema is still whole and usable after repeated and concurrent initialization.
    String service = name("svc");
    other.register(List.of(service));
    store.register(List.of(service));
    MemberId m = store.join(name("m"), TTL, Optional.empty(), INFO);
    assertThat(m.incarnation()).isEqualTo(1);
    assertThat(claimOne(other, m, service)).map(FencingToken::value).contains(1L);
  }

  @Test
  void everyJoinGetsAHigherIncarnation() {
    ClusterStore store = store();
    String name = name("m");
    MemberId first = store.join(name, TTL, Optional.empty(), INFO);
    store.leave(first);
    MemberId second = store.join(name, TTL, Optional.empty(), INFO);
    assertThat(first.incarnation()).isEqualTo(1);
    assertThat(second.incarnation()).isGreaterThan(first.incarnation());
  }

  @Test
  void aSecondLiveMemberWithTheSameNameIsRefused() {
    ClusterStore store = store();
    String name = name("dup");
    MemberId live = store.join(name, TTL, Optional.empty(), INFO);
    assertThatThrownBy(() -> store.join(name, TTL, Optional.empty(), INFO))
        .isInstanceOf(MemberNameInUseException.class)
        .hasMessageContaining(name)
        .hasMessageContaining("--name");
    // The process that held the live incarnation may supersede it (it has stopped acting on it).
    MemberId next = store.join(name, TTL, Optional.of(live), INFO);
    assertThat(next.incarnation()).isEqualTo(live.incarnation() + 1);
    assertThat(store.renew(live, TTL)).as("the superseded incarnation must not renew").isFalse();
  }

  @Test
  void aLeaseThatIsNotRenewedExpiresByTheDatabaseClock() throws InterruptedException {
    ClusterStore store = store(SHORT_TTL);
    MemberId m = store.join(name("lease"), SHORT_TTL, Optional.empty(), INFO);
    for (int i = 0; i < 4; i++) {
      passTime(SHORT_TTL.dividedBy(3));
      assertThat(store.renew(m, SHORT_TTL)).as("renewal %d within the lease", i).isTrue();
    }
    passTime(SHORT_TTL.plusMillis(200));
    assertThat(store.renew(m, SHORT_TTL)).as("renewal after the lease ran out").isFalse();
  }

  @Test
  void aServiceOfALiveOwnerIsNotClaimableAndTokensIncrease() {
    ClusterStore store = store();
    String service = name("svc");
    store.register(List.of(service));
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    MemberId b = store.join(name("b"), TTL, Optional.empty(), INFO);

    FencingToken first = claimOne(store, a, service).orElseThrow();
    assertThat(claimOne(store, b, service)).as("claim while the owner lives").isEmpty();
    assertThat(store.claimableServices()).doesNotContain(service);

    store.leave(a);
    assertThat(store.claimableServices()).contains(service);
    FencingToken second = claimOne(store, b, service).orElseThrow();
    assertThat(second.value()).isGreaterThan(first.value());
    assertThat(store.currentGrant(service)).contains(second);
  }

  @Test
  void anExpiredOwnersServicesAreClaimableOnlyAfterTheExpiryIsRecorded()
      throws InterruptedException {
    ClusterStore store = store(SHORT_TTL);
    String service = name("svc");
    store.register(List.of(service));
    MemberId dead = store.join(name("dead"), SHORT_TTL, Optional.empty(), INFO);
    FencingToken old = claimOne(store, dead, service).orElseThrow();
    MemberId live = store.join(name("live"), Duration.ofSeconds(30), Optional.empty(), INFO);

    passTime(SHORT_TTL.plusMillis(200));
    assertThat(store.claimableServices())
        .as("no positive evidence of death yet: the expiry is not recorded")
        .doesNotContain(service);
    assertThat(store.heartbeat(live, Duration.ofSeconds(30)).overdue())
        .as("the heartbeat reports the overdue member")
        .isGreaterThanOrEqualTo(1);
    assertThat(store.expireOverdueMembers()).isGreaterThanOrEqualTo(1);
    FencingToken taken = claimOne(store, live, service).orElseThrow();
    assertThat(taken.value()).isEqualTo(old.value() + 1);
    assertThat(store.renew(dead, SHORT_TTL)).as("an expired member never renews").isFalse();
  }

  @Test
  void aMemberWhoseLeaseRanOutCannotClaim() throws InterruptedException {
    ClusterStore store = store(SHORT_TTL);
    String service = name("svc");
    store.register(List.of(service));
    MemberId m = store.join(name("late"), SHORT_TTL, Optional.empty(), INFO);
    passTime(SHORT_TTL.plusMillis(200));
    assertThat(claimOne(store, m, service)).isEmpty();
  }

  @Test
  void releaseIsFencedByTheToken() {
    ClusterStore store = store();
    String service = name("svc");
    store.register(List.of(service));
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    FencingToken t1 = claimOne(store, a, service).orElseThrow();
    assertThat(store.release(t1)).isTrue();
    FencingToken t2 = claimOne(store, a, service).orElseThrow();
    assertThat(store.release(t1)).as("release with a stale token").isFalse();
    assertThat(store.currentGrant(service)).contains(t2);
  }

  @Test
  void tokensSurviveARestartOfEveryMaster() {
    String service = name("svc");
    ClusterStore first = store();
    first.register(List.of(service));
    MemberId a = first.join(name("a"), TTL, Optional.empty(), INFO);
    FencingToken before = claimOne(first, a, service).orElseThrow();
    first.leave(a);
    first.close();

    ClusterStore second = store();
    MemberId b = second.join(name("b"), TTL, Optional.empty(), INFO);
    FencingToken after = claimOne(second, b, service).orElseThrow();
    assertThat(after.value()).isGreaterThan(before.value());
  }

  @Test
  void leaveReleasesEveryClaimAndMarksTheMemberStopped() {
    ClusterStore store = store();
    List<String> services = List.of(name("s1"), name("s2"), name("s3"));
    store.register(services);
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    services.forEach(s -> claimOne(store, a, s).orElseThrow());
    ClusterStatus before = store.status();
    assertThat(member(before, a).servicesOwned()).isEqualTo(3);

    store.leave(a);
    ClusterStatus after = store.status();
    assertThat(member(after, a).state()).isEqualTo("STOPPED");
    assertThat(after.services())
        .filteredOn(s -> services.contains(s.name()))
        .allSatisfy(s -> assertThat(s.owner()).isNull());
    assertThat(store.claimableServices()).containsAll(services);
  }

  @Test
  void concurrentClaimsHaveExactlyOneWinner() throws Exception {
    int racers = 8;
    List<ClusterStore> stores = new ArrayList<>();
    List<MemberId> members = new ArrayList<>();
    for (int i = 0; i < racers; i++) {
      ClusterStore s = store();
      stores.add(s);
      members.add(s.join(name("racer" + i), TTL, Optional.empty(), INFO));
    }
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    try {
      for (int round = 0; round < 10; round++) {
        String service = name("race" + round);
        stores.get(0).register(List.of(service));
        CyclicBarrier start = new CyclicBarrier(racers);
        List<Future<Optional<FencingToken>>> results = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
          ClusterStore s = stores.get(i);
          MemberId m = members.get(i);
          results.add(
              pool.submit(
                  () -> {
                    start.await();
                    return claimOne(s, m, service);
                  }));
        }
        List<FencingToken> won = new ArrayList<>();
        for (Future<Optional<FencingToken>> f : results) {
          f.get().ifPresent(won::add);
        }
        assertThat(won).as("winners of round %d", round).hasSize(1);
        assertThat(won.get(0).value()).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void fuzzManyMembersRacingToClaimRenewReleaseAndExpire() throws Exception {
    StoreFuzzer.Result result = new StoreFuzzer(this::store, this::name).run(fuzzDuration());
    assertThat(result.overlaps())
        .as("moments when two members acted as owner of one service")
        .isEmpty();
    assertThat(result.tokenProblems())
        .as("services whose granted tokens are not exactly 1..current")
        .isEmpty();
    assertThat(result.grants()).as("grants made").isGreaterThan(20);
    assertThat(result.takeovers()).as("grants taken over from an expired member").isGreaterThan(0);
    assertThat(result.handovers())
        .as("grants handed over because the balancer moved the service")
        .isGreaterThan(0);
  }

  /**
   * Whether this store's heartbeat measures the age of the member's own previous renewal ({@link
   * Heartbeat#ownRenewalAgeMillis()}); a store that does not reports -1.
   */
  protected boolean measuresOwnRenewalAge() {
    return true;
  }

  @Test
  void theHeartbeatTellsTheStoresAgeOfTheMembersPreviousRenewal() throws InterruptedException {
    ClusterStore store = store();
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    store.heartbeat(a, TTL);
    long sent = System.nanoTime();
    passTime(Duration.ofMillis(400));
    Heartbeat hb = store.heartbeat(a, TTL);
    long measured = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    assertThat(hb.renewed()).isTrue();
    if (!measuresOwnRenewalAge()) {
      assertThat(hb.ownRenewalAgeMillis()).isEqualTo(-1);
      return;
    }
    // The previous renewal, not this one: at least the time that passed between them.
    assertThat(hb.ownRenewalAgeMillis()).isBetween(390L, Math.max(measured, 400L) + 50);
    Heartbeat next = store.heartbeat(a, TTL);
    assertThat(next.ownRenewalAgeMillis()).isBetween(0L, 200L);
  }

  @Test
  void theHeartbeatReportsTheLeasesAndAnEpochThatEveryChangeMoves() {
    ClusterStore store = store();
    String service = name("hb");
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    Heartbeat first = store.heartbeat(a, TTL);
    assertThat(first.renewed()).isTrue();
    assertThat(first.leases())
        .anySatisfy(
            l -> {
              assertThat(l.name()).isEqualTo(a.name());
              assertThat(l.incarnation()).isEqualTo(a.incarnation());
              assertThat(l.leftMillis()).isPositive();
            });
    long epoch = first.changeEpoch();
    store.register(List.of(service));
    long afterRegister = store.heartbeat(a, TTL).changeEpoch();
    assertThat(afterRegister).as("a new service moves the epoch").isGreaterThan(epoch);
    assertThat(store.heartbeat(a, TTL).changeEpoch())
        .as("a renewal alone does not")
        .isEqualTo(afterRegister);
    FencingToken t = claimOne(store, a, service).orElseThrow();
    long afterClaim = store.heartbeat(a, TTL).changeEpoch();
    assertThat(afterClaim).as("a claim moves the epoch").isGreaterThan(afterRegister);
    assertThat(store.release(List.of(t))).isEqualTo(1);
    assertThat(store.heartbeat(a, TTL).changeEpoch())
        .as("a release moves the epoch")
        .isGreaterThan(afterClaim);
    assertThat(store.release(List.of(t))).as("a stale token releases nothing").isZero();
  }

  @Test
  void factsCarryWhatTheBalancerNeedsAndOperatorIntentions() {
    ClusterStore store = store();
    String plain = name("plain");
    String ruled = name("ruled");
    store.define(
        List.of(
            ServiceSpec.of(plain),
            new ServiceSpec(ruled, 2.5, Placement.ANYWHERE.requireTag("web").antiAffinity("g"))));
    MemberId a =
        store.join(
            name("a"), TTL, Optional.empty(), INFO.withBalancing(2, java.util.Set.of("web", "x")));
    assertThat(store.setDraining(a.name(), true)).isTrue();
    assertThat(store.setDraining(name("nobody"), true)).as("unknown member").isFalse();
    assertThat(store.setMoveTarget(plain, Optional.of(a.name()))).isTrue();
    assertThat(store.setMoveTarget(name("nothing"), Optional.of(a.name()))).isFalse();
    FencingToken t = claimOne(store, a, plain).orElseThrow();
    assertThat(store.releaseFailedStart(t)).isTrue();

    ClusterFacts facts = store.facts();
    ClusterFacts.Member m =
        facts.members().stream().filter(x -> x.name().equals(a.name())).findFirst().orElseThrow();
    assertThat(m.spec().capacity()).isEqualTo(2.0);
    assertThat(m.spec().tags()).containsExactlyInAnyOrder("web", "x");
    assertThat(m.spec().draining()).isTrue();
    ClusterFacts.Service p =
        facts.services().stream().filter(x -> x.name().equals(plain)).findFirst().orElseThrow();
    assertThat(p.moveTo()).contains(a.name());
    assertThat(facts.claimable(p)).isTrue();
    assertThat(p.startFailedBy()).contains(a);
    ClusterFacts.Service r =
        facts.services().stream().filter(x -> x.name().equals(ruled)).findFirst().orElseThrow();
    assertThat(r.spec().weight()).isEqualTo(2.5);
    assertThat(r.spec().placement().requiredTag()).contains("web");
    assertThat(r.spec().placement().antiAffinityGroup()).contains("g");

    // Redefining changes the rules in place.
    store.define(List.of(new ServiceSpec(ruled, 1, Placement.ANYWHERE)));
    ClusterFacts.Service again =
        store.facts().services().stream()
            .filter(x -> x.name().equals(ruled))
            .findFirst()
            .orElseThrow();
    assertThat(again.spec()).isEqualTo(ServiceSpec.of(ruled));
  }

  @Test
  void factsSinceAnEpochHoldEveryServiceChangedAfterItAndNoOther() {
    ClusterStore store = store();
    String quiet = name("quiet");
    String claimed = name("claimed");
    store.register(List.of(quiet, claimed));
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    ClusterFacts before = store.facts();
    assertThat(before.services()).extracting(ClusterFacts.Service::name).contains(quiet, claimed);

    FencingToken t = claimOne(store, a, claimed).orElseThrow();
    ClusterFacts afterClaim = store.factsSince(before.changeEpoch());
    assertThat(afterClaim.changeEpoch()).isGreaterThan(before.changeEpoch());
    assertThat(afterClaim.services())
        .extracting(ClusterFacts.Service::name)
        .containsExactly(claimed);
    assertThat(afterClaim.members()).extracting(ClusterFacts.Member::name).contains(a.name());

    String added = name("added");
    store.register(List.of(added));
    store.release(t);
    ClusterFacts later = store.factsSince(afterClaim.changeEpoch());
    assertThat(later.services())
        .extracting(ClusterFacts.Service::name)
        .containsExactlyInAnyOrder(added, claimed);
    assertThat(store.factsSince(later.changeEpoch()).services()).as("nothing changed").isEmpty();
  }

  @Test
  void aBatchClaimTakesOnlyWhatIsClaimable() {
    ClusterStore store = store();
    List<String> services = List.of(name("b1"), name("b2"), name("b3"), name("b4"));
    store.register(services);
    MemberId a = store.join(name("a"), TTL, Optional.empty(), INFO);
    MemberId b = store.join(name("b"), TTL, Optional.empty(), INFO);
    claimOne(store, a, services.get(1)).orElseThrow();
    List<FencingToken> won = store.claim(b, services);
    assertThat(won)
        .extracting(FencingToken::service)
        .containsExactlyInAnyOrder(services.get(0), services.get(2), services.get(3));
    assertThat(won).allSatisfy(t -> assertThat(t.holder()).isEqualTo(b));
    MemberId c = store.join(name("c"), TTL, Optional.empty(), INFO);
    assertThat(store.claim(c, services)).as("nothing left to claim").isEmpty();
  }

  protected static Optional<FencingToken> claimOne(
      ClusterStore store, MemberId member, String service) {
    List<FencingToken> won = store.claim(member, List.of(service));
    assertThat(won).hasSizeLessThanOrEqualTo(1);
    return won.stream().findFirst();
  }

  /** How long the fuzz test runs; a backend may ask for longer. */
  protected Duration fuzzDuration() {
    return Duration.ofSeconds(8);
  }

  private static ClusterStatus.Member member(ClusterStatus status, MemberId id) {
    return status.members().stream()
        .filter(m -> m.name().equals(id.name()) && m.incarnation() == id.incarnation())
        .findFirst()
        .orElseThrow();
  }
}
