package io.arbiter.chaos.check;

import java.util.List;

/**
 * Something a run did that Arbiter promises it never does.
 *
 * @param check the checker that found it
 * @param summary one line saying what went wrong
 * @param excerpt the lines of the history that show it (ticks, master history lines, faults)
 */
public record Violation(String check, String summary, List<String> excerpt) {
  public Violation {
    excerpt = List.copyOf(excerpt);
  }
}
