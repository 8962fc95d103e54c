package io.arbiter.testkit;

import io.arbiter.spi.SessionStore;
import io.arbiter.spi.StoredSession;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** A store that counts the statements a {@code ClusterSessions} sends, to test its cost. */
public final class CountingSessionStore implements SessionStore {
  public final AtomicInteger reads = new AtomicInteger();
  public final AtomicInteger touches = new AtomicInteger();
  public final AtomicInteger purges = new AtomicInteger();
  private final SessionStore delegate;

  public CountingSessionStore(SessionStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public void initialize() {
    delegate.initialize();
  }

  @Override
  public StoredSession create(
      String principal, Map<String, String> attributes, Duration maxInactive) {
    return delegate.create(principal, attributes, maxInactive);
  }

  @Override
  public Optional<StoredSession> read(String id) {
    reads.incrementAndGet();
    return delegate.read(id);
  }

  @Override
  public boolean touch(String id) {
    touches.incrementAndGet();
    return delegate.touch(id);
  }

  @Override
  public boolean setAttribute(String id, String name, String value) {
    return delegate.setAttribute(id, name, value);
  }

  @Override
  public boolean removeAttribute(String id, String name) {
    return delegate.removeAttribute(id, name);
  }

  @Override
  public boolean invalidate(String id) {
    return delegate.invalidate(id);
  }

  @Override
  public int purgeExpired(int maxSessions) {
    purges.incrementAndGet();
    return delegate.purgeExpired(maxSessions);
  }

  @Override
  public long count() {
    return delegate.count();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
