package io.arbiter.bench;

import io.arbiter.ClusteredService;
import io.arbiter.ServiceContext;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What ran where and when, for masters that share this JVM: every start and stop of a clustered
 * service, with {@link System#nanoTime()} and the master. One clock for all masters, so gaps and
 * overlaps are measured without comparing clocks.
 *
 * <p>A start is stamped when the start callback is entered, a stop when the stop callback returns:
 * the service counts as running for the whole of both callbacks. An overlap is a start on one
 * master while another has not yet returned from its stop; it is detected at that moment, under the
 * service's entry in the owner map, so it is exact rather than inferred from the event list.
 */
final class Ledger {
  /** A start or a stop of {@code service} on {@code member} at {@code nanos}. */
  record Event(String service, String member, boolean start, long nanos) {}

  /** Two masters ran {@code service} at once. */
  record Overlap(String service, String running, String starting) {}

  private final Map<String, String> owners = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Overlap> overlaps = new ConcurrentLinkedQueue<>();
  private final AtomicLong lastEventNanos = new AtomicLong(System.nanoTime());
  private final AtomicInteger count = new AtomicInteger();

  /** The service every master registers, under every name: it only records. */
  ClusteredService service() {
    return new ClusteredService() {
      @Override
      public void start(ServiceContext context) {
        started(context.serviceName(), context.member().name());
      }

      @Override
      public void stop(ServiceContext context) {
        stopped(context.serviceName(), context.member().name());
      }
    };
  }

  void started(String service, String member) {
    long now = System.nanoTime();
    owners.compute(
        service,
        (s, current) -> {
          if (current != null && !current.equals(member)) {
            overlaps.add(new Overlap(service, current, member));
          }
          return member;
        });
    record(new Event(service, member, true, now));
  }

  void stopped(String service, String member) {
    owners.computeIfPresent(service, (s, current) -> current.equals(member) ? null : current);
    record(new Event(service, member, false, System.nanoTime()));
  }

  private void record(Event e) {
    events.add(e);
    count.incrementAndGet();
    lastEventNanos.accumulateAndGet(e.nanos(), Math::max);
  }

  /** The master running {@code service} now, or null. */
  String owner(String service) {
    return owners.get(service);
  }

  /** Service → master, for every running service. */
  Map<String, String> owners() {
    return new HashMap<>(owners);
  }

  long lastEventNanos() {
    return lastEventNanos.get();
  }

  int eventCount() {
    return count.get();
  }

  List<Overlap> overlaps() {
    return List.copyOf(overlaps);
  }

  /** Events at or after {@code fromNanos}, per service, in time order. */
  Map<String, List<Event>> eventsSince(long fromNanos) {
    Map<String, List<Event>> out = new HashMap<>();
    for (Event e : events) {
      if (e.nanos() - fromNanos >= 0) {
        out.computeIfAbsent(e.service(), k -> new ArrayList<>()).add(e);
      }
    }
    out.values().forEach(l -> l.sort((a, b) -> Long.compare(a.nanos(), b.nanos())));
    return out;
  }

  /** All events at or after {@code fromNanos}, in time order. */
  List<Event> timeline(long fromNanos) {
    List<Event> out = new ArrayList<>();
    for (Event e : events) {
      if (e.nanos() - fromNanos >= 0) {
        out.add(e);
      }
    }
    out.sort((a, b) -> Long.compare(a.nanos(), b.nanos()));
    return out;
  }

  /** True if every one of {@code services} runs somewhere now. */
  boolean allRunning(Collection<String> services) {
    for (String s : services) {
      if (owners.get(s) == null) {
        return false;
      }
    }
    return true;
  }
}
