package io.arbiter.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Nearest-rank percentiles of a sample. */
public final class Percentiles {
  private Percentiles() {}

  /** The p-th percentile (0 < p <= 100) by nearest rank; -1 for an empty sample. */
  public static long of(List<Long> sample, double p) {
    if (sample.isEmpty()) {
      return -1;
    }
    List<Long> sorted = new ArrayList<>(sample);
    Collections.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
