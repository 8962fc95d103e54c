package io.arbiter.chaos;

import java.util.List;

/**
 * Who owned what at one moment, as the database said: the services whose owner was a live
 * incarnation (ACTIVE, lease left). Taken by the run after each fault's recovery and at the end.
 *
 * @param atDbMillis when, on the database's clock
 * @param atLocalMillis when, on the harness's wall clock (the clock of the histories' {@code
 *     wall_ms}, on the same machine)
 */
public record OwnerSnapshot(long atDbMillis, long atLocalMillis, List<Owned> owned) {

  /**
   * One service held by a live incarnation.
   *
   * @param grantedAtMillis when its grant was made, on the database's clock
   */
  public record Owned(
      String service, String member, long incarnation, long token, long grantedAtMillis) {}
}
