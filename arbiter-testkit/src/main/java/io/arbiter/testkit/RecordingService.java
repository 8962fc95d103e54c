package io.arbiter.testkit;

import io.arbiter.ClusteredService;
import io.arbiter.MemberId;
import io.arbiter.ServiceContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A clustered service for tests that records every start and stop in a shared {@link Ledger}. The
 * ledger is the oracle for in-JVM tests: it notes any moment at which two members run one service.
 */
public final class RecordingService implements ClusteredService {
  private final Ledger ledger;
  private final boolean failOnStart;

  public RecordingService(Ledger ledger) {
    this(ledger, false);
  }

  public RecordingService(Ledger ledger, boolean failOnStart) {
    this.ledger = ledger;
    this.failOnStart = failOnStart;
  }

  @Override
  public void start(ServiceContext context) {
    if (failOnStart) {
      throw new IllegalStateException("start failure injected by the test");
    }
    ledger.started(context);
  }

  @Override
  public void stop(ServiceContext context) {
    ledger.stopped(context);
  }

  /** Every start and stop of every service, across the members of one test. */
  public static final class Ledger {
    /** One start or stop, stamped with System.nanoTime(). */
    public record Event(String service, MemberId member, long token, boolean start, long nanos) {}

    private final List<Event> events = new ArrayList<>();
    private final List<String> overlaps = new ArrayList<>();
    private final List<ServiceContext> running = new ArrayList<>();

    synchronized void started(ServiceContext c) {
      for (ServiceContext other : running) {
        if (other.serviceName().equals(c.serviceName())) {
          overlaps.add(
              c.serviceName()
                  + " started on "
                  + c.member()
                  + " (token "
                  + c.token().value()
                  + ") while running on "
                  + other.member()
                  + " (token "
                  + other.token().value()
                  + ")");
        }
      }
      running.add(c);
      events.add(
          new Event(c.serviceName(), c.member(), c.token().value(), true, System.nanoTime()));
    }

    synchronized void stopped(ServiceContext c) {
      running.remove(c);
      events.add(
          new Event(c.serviceName(), c.member(), c.token().value(), false, System.nanoTime()));
    }

    public synchronized List<String> overlaps() {
      return List.copyOf(overlaps);
    }

    public synchronized List<Event> events() {
      return List.copyOf(events);
    }

    /** The context the service runs under now, on any member. */
    public synchronized Optional<ServiceContext> running(String service) {
      return running.stream().filter(c -> c.serviceName().equals(service)).findFirst();
    }

    /** The member name the service runs on now, if any. */
    public Optional<String> runningOn(String service) {
      return running(service).map(c -> c.member().name());
    }

    /** The services running now on {@code member}. */
    public synchronized java.util.Set<String> servicesOn(MemberId member) {
      java.util.Set<String> names = new java.util.TreeSet<>();
      running.stream()
          .filter(c -> c.member().equals(member))
          .forEach(c -> names.add(c.serviceName()));
      return names;
    }
  }
}
