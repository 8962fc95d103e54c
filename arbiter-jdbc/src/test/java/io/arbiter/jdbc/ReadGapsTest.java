package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.events.Event;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadGapsTest {
  private static List<Event> events(long... seqs) {
    return Arrays.stream(seqs)
        .mapToObj(s -> new Event(s, "t", "k", null, "m", Instant.EPOCH))
        .toList();
  }

  private static List<Long> seqs(List<Event> events) {
    return events.stream().map(Event::seq).toList();
  }

  @Test
  void denseReadsHaveNoGap() {
    assertThat(ReadGaps.hasGap(10, events(11, 12, 13))).isFalse();
    assertThat(ReadGaps.hasGap(10, events())).isFalse();
    assertThat(ReadGaps.hasGap(10, events(12))).isTrue();
    assertThat(ReadGaps.hasGap(10, events(11, 13))).isTrue();
  }

  @Test
  void aGapAtOrBelowTheWatermarkIsAPurgeAndIsPassedOn() {
    // A reader at 45; retention purged through 134.
    assertThat(seqs(ReadGaps.purgedGapsOnly(45, events(135, 136, 137), 134)))
        .containsExactly(135L, 136L, 137L);
    assertThat(ReadGaps.firstUnseen(45, events(135, 136, 137), 134)).isEqualTo(-1);
  }

  @Test
  void aGapAboveTheWatermarkIsNotSkippedEvenIfTwoReadsAgree() {
    // 12 is missing in both reads (a transaction in flight, or a snapshot that missed it), and
    // nothing was purged: the read stops before it. Trusting the two reads lost 12 for good.
    List<Event> read = events(11, 13, 14);
    assertThat(seqs(ReadGaps.purgedGapsOnly(10, read, 0))).containsExactly(11L);
    assertThat(ReadGaps.firstUnseen(10, read, 0)).isEqualTo(12);
  }

  @Test
  void aLeadingGapAboveTheWatermarkReturnsNothing() {
    assertThat(ReadGaps.purgedGapsOnly(10, events(12, 13), 10)).isEmpty();
    assertThat(ReadGaps.firstUnseen(10, events(12, 13), 10)).isEqualTo(11);
  }

  @Test
  void aGapThatStraddlesTheWatermarkWaitsForItsUnpurgedPart() {
    // 11..14 missing, purged through 12: 13 and 14 were not purged.
    List<Event> read = events(15, 16);
    assertThat(ReadGaps.purgedGapsOnly(10, read, 12)).isEmpty();
    assertThat(ReadGaps.firstUnseen(10, read, 12)).isEqualTo(13);
  }

  @Test
  void onlyTheFirstUnpurgedGapCuts() {
    // Purged through 20; the reader was at 5: 6..20 purged, 22 missing above it.
    List<Event> read = events(21, 23);
    assertThat(seqs(ReadGaps.purgedGapsOnly(5, read, 20))).containsExactly(21L);
    assertThat(ReadGaps.firstUnseen(5, read, 20)).isEqualTo(22);
  }
}
