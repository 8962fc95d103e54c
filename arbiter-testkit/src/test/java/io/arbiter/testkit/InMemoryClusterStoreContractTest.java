package io.arbiter.testkit;

import io.arbiter.spi.ClusterStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory store passes the contract every backend passes, fuzzer included. Its clock runs
 * with the system's monotonic clock (the fuzzer's members measure their leases on that one) plus an
 * offset that {@link #passTime} moves, so the lease tests do not sleep.
 */
class InMemoryClusterStoreContractTest extends ClusterStoreContract {
  private final AtomicLong skipped = new AtomicLong();
  private final InMemoryClusterStore database =
      new InMemoryClusterStore(() -> System.nanoTime() + skipped.get());

  @Override
  protected ClusterStore openStore(Duration leaseTtl) {
    return database.connect();
  }

  @Override
  protected void passTime(Duration d) {
    skipped.addAndGet(d.toNanos());
  }
}
