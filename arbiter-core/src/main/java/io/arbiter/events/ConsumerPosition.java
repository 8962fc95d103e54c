package io.arbiter.events;

import java.time.Instant;

/**
 * How far one member has delivered the log, for {@code arbiter status}.
 *
 * @param member the member's name
 * @param deliveredSeq the last sequence it saved as delivered (saved in batches, so it may trail
 *     what it has really delivered by up to the save interval)
 * @param headSeq the newest sequence in the log when this was read
 * @param updatedAt when the member last saved its position, on the database's clock
 */
public record ConsumerPosition(String member, long deliveredSeq, long headSeq, Instant updatedAt) {
  /** Events published but not yet delivered to this member (as far as its saved position says). */
  public long lag() {
    return Math.max(0, headSeq - deliveredSeq);
  }
}
