package io.arbiter.chaos;

import io.arbiter.examples.buildfarm.TickHistory;

/**
 * One write the database accepted, read back from {@value TickHistory#TABLE}.
 *
 * @param writtenAtMillis when it was written, on the database's clock (epoch milliseconds)
 */
public record Tick(
    long id, String service, long token, String member, long incarnation, long writtenAtMillis) {

  /** The master incarnation that wrote it: "m1#3". */
  public String writer() {
    return member + "#" + incarnation;
  }

  @Override
  public String toString() {
    return "tick "
        + id
        + " "
        + service
        + " token "
        + token
        + " by "
        + writer()
        + " at "
        + java.time.Instant.ofEpochMilli(writtenAtMillis);
  }
}
