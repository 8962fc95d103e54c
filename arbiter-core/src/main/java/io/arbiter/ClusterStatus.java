package io.arbiter;

import java.time.Instant;
import java.util.List;

/** A snapshot of the cluster as the database sees it, for `arbiter status` and dashboards. */
public record ClusterStatus(Instant databaseTime, List<Member> members, List<Service> services) {

  /**
   * @param leaseLeftMillis remaining lease by the database's clock (negative once expired)
   */
  public record Member(
      String name,
      long incarnation,
      String state,
      long leaseLeftMillis,
      Instant joinedAt,
      String host,
      long pid,
      int servicesOwned) {}

  /**
   * @param owner {@code name#incarnation} of the holder, or null when unowned
   */
  public record Service(String name, String owner, long token, Instant grantedAt) {}
}
