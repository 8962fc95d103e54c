package io.arbiter.chaos.nemesis;

import java.util.Collection;
import java.util.List;

/** Moves services between masters as an operator does ({@code arbiter move}, {@code --to auto}). */
public interface ServiceMover {
  /**
   * Moves up to {@code count} services that {@code member} does not own onto it, starting the
   * choice at {@code offset} in name order.
   *
   * @return the services moved
   */
  List<String> moveOnto(String member, int count, int offset);

  /** Gives the services back to the balancer's choice. */
  void unmove(Collection<String> services);
}
