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
  void anEventTheFirstSnapshotMissedIsTakenFromTheSecond() {
    // The MariaDB case measured: after 10619 the first read got 10621, the second 10620 and on.
    List<Event> first = events(10621, 10622);
    List<Event> again = events(10620, 10621, 10622, 10623);
    assertThat(seqs(ReadGaps.confirmedPrefix(10619, first, again)))
        .containsExactly(10620L, 10621L, 10622L, 10623L);
  }

  @Test
  void aGapBothReadsShowIsAPurgeAndIsPassedOn() {
    List<Event> first = events(135, 136, 137);
    List<Event> again = events(135, 136, 137, 138);
    assertThat(seqs(ReadGaps.confirmedPrefix(45, first, again)))
        .containsExactly(135L, 136L, 137L, 138L);
  }

  @Test
  void aNewGapInTheSecondReadCutsItThere() {
    // The first read's gap (12) is filled; the second read has a gap of its own at 15, which the
    // first read never reached: it is not trusted, and the next read starts after 14.
    List<Event> first = events(11, 13);
    List<Event> again = events(11, 12, 13, 14, 16);
    assertThat(seqs(ReadGaps.confirmedPrefix(10, first, again)))
        .containsExactly(11L, 12L, 13L, 14L);
  }

  @Test
  void aGapTheFirstReadSawOnlyPartlyIsNotTrusted() {
    // The first read lacked 12 but returned 13; the second lacks 12..13 and returns 14: 13 was
    // there before, so this gap is not the one the first read confirmed.
    List<Event> first = events(11, 13, 14);
    List<Event> again = events(11, 14);
    assertThat(seqs(ReadGaps.confirmedPrefix(10, first, again))).containsExactly(11L);
  }

  @Test
  void aLeadingGapIsTrustedOnlyIfTheFirstReadWentPastIt() {
    assertThat(seqs(ReadGaps.confirmedPrefix(10, events(), events(12, 13)))).isEmpty();
    assertThat(seqs(ReadGaps.confirmedPrefix(10, events(12), events(12, 13))))
        .containsExactly(12L, 13L);
  }
}
