package io.arbiter.jdbc;

import io.arbiter.time.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says when readers have waited long for an event number above the purge watermark ({@link
 * ReadGaps}). A snapshot that missed a commit shows it on the next read; a number still missing
 * after {@link #WARN_AFTER} is worth a WARN that names it, repeated every {@link #WARN_AGAIN}. The
 * readers keep waiting: skipping it could lose an event for good, and only the watermark says for
 * sure that it is gone.
 */
final class MissingEventWatch {
  static final Duration WARN_AFTER = Duration.ofSeconds(10);
  static final Duration WARN_AGAIN = Duration.ofMinutes(1);

  private static final Logger log = LoggerFactory.getLogger(MissingEventWatch.class);

  private final Ticker ticker;
  private final String database;
  private long missingSeq = -1;
  private long sinceNanos;
  private long nextWarnNanos;
  private boolean warned;

  MissingEventWatch(Ticker ticker, String database) {
    this.ticker = ticker;
    this.database = database;
  }

  /**
   * A read stopped before {@code seq}, missing above the watermark {@code purgedThrough}. Returns
   * true if this call logged the WARN.
   */
  synchronized boolean stoppedBefore(long seq, long purgedThrough) {
    long now = ticker.nanos();
    if (seq != missingSeq) {
      missingSeq = seq;
      sinceNanos = now;
      nextWarnNanos = now + WARN_AFTER.toNanos();
      warned = false;
      return false;
    }
    if (now - nextWarnNanos < 0) {
      return false;
    }
    nextWarnNanos = now + WARN_AGAIN.toNanos();
    warned = true;
    log.warn(
        "event log on {}: event {} has been missing for {} s while later ones are there, and it"
            + " is above the purge watermark ({}), so it was not purged: readers wait for it and"
            + " deliver nothing after it. Publishers commit their numbers in order, so it was"
            + " most likely deleted outside a purge: by a master of schema version 2 (its purge"
            + " leaves no watermark; the next purge of a version-3 master moves the watermark past"
            + " it) or by hand",
        database,
        seq,
        TimeUnit.NANOSECONDS.toSeconds(now - sinceNanos),
        purgedThrough);
    return true;
  }

  /** A read returned everything up to {@code lastSeq}, or stopped at no missing number. */
  synchronized void readThrough(long lastSeq) {
    if (missingSeq >= 0 && lastSeq >= missingSeq) {
      if (warned) {
        log.info(
            "event log on {}: event {} arrived after {} ms; readers go on",
            database,
            missingSeq,
            TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - sinceNanos));
      }
      missingSeq = -1;
    }
  }
}
