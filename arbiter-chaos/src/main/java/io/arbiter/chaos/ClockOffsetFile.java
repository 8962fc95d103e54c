package io.arbiter.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The file a master reads its wall-clock offset from ({@code --clock-offset-file} of {@link
 * ChaosMasterMain}, read by {@link OffsetClock}): the number of milliseconds to add to the system
 * time. Written whole and moved into place, so the master never reads half a number.
 */
public final class ClockOffsetFile {
  private final Path file;

  public ClockOffsetFile(Path file) {
    this.file = file;
  }

  public Path path() {
    return file;
  }

  public void set(long offsetMillis) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, Long.toString(offsetMillis), StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
