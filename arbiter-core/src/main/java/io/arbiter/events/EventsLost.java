package io.arbiter.events;

/**
 * Events that retention purged before this master read them: {@code fromSeq} to {@code toSeq}, both
 * included. The master's subscribers never saw them and never will; whatever they keep from the log
 * (a cache) must assume that anything changed. Delivered to {@link
 * EventLogConfig.Builder#onEventsLost}, on the reader thread, before the events after the range.
 *
 * @param member the master whose reader lost them
 * @param fromSeq the first lost sequence number
 * @param toSeq the last lost sequence number
 */
public record EventsLost(String member, long fromSeq, long toSeq) {
  /** How many events were lost. */
  public long count() {
    return toSeq - fromSeq + 1;
  }
}
