package io.arbiter.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The system clock shifted by the number of milliseconds written in a file, re-read at most every
 * 100 ms: the chaos harness shifts a master's wall clock this way ({@link ClockOffsetFile}),
 * without touching the machine's.
 */
final class OffsetClock extends Clock {
  private static final long REREAD_MILLIS = 100;

  private final Path file;
  private volatile long offsetMillis;
  private volatile long readAt;

  OffsetClock(Path file) {
    this.file = file;
  }

  @Override
  public long millis() {
    long now = System.currentTimeMillis();
    if (now - readAt >= REREAD_MILLIS || now < readAt) {
      readAt = now;
      offsetMillis = readOffset();
    }
    return now + offsetMillis;
  }

  private long readOffset() {
    try {
      String text = Files.exists(file) ? Files.readString(file).trim() : "";
      return text.isEmpty() ? 0 : Long.parseLong(text);
    } catch (IOException | NumberFormatException e) {
      return offsetMillis; // a half-written file: keep the last value
    }
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
