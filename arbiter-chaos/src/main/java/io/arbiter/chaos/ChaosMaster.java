package io.arbiter.chaos;

import io.arbiter.testkit.FaultProxy;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One master of a chaos run and everything a nemesis can act on: its process, the proxy that is its
 * only way to the database, and the file its wall clock is shifted through. Its history is written
 * to {@link #historyFile()}.
 */
public final class ChaosMaster {
  private final String shortName;
  private final MasterFleet fleet;
  private final MasterProcess process;
  private final FaultProxy proxy;
  private final ClockOffsetFile clock;
  private final Path historyFile;

  ChaosMaster(
      String shortName,
      MasterFleet fleet,
      MasterProcess process,
      FaultProxy proxy,
      ClockOffsetFile clock,
      Path historyFile) {
    this.shortName = shortName;
    this.fleet = fleet;
    this.process = process;
    this.proxy = proxy;
    this.clock = clock;
    this.historyFile = historyFile;
  }

  public String name() {
    return process.name();
  }

  /** "m2": the name without the run's prefix, as the run's output and files say it. */
  public String shortName() {
    return shortName;
  }

  public Path historyFile() {
    return historyFile;
  }

  public MasterProcess process() {
    return process;
  }

  public void kill() throws InterruptedException {
    process.kill();
  }

  /** Starts the master again if it is not running (after a kill, or if it exited). */
  public void restartIfDead() throws IOException {
    if (!process.isAlive()) {
      fleet.restart(process);
    }
  }

  public void pause() throws IOException, InterruptedException {
    process.pause();
  }

  public void resume() throws InterruptedException {
    process.resume();
  }

  public void cutLink(FaultProxy.Mode mode) {
    proxy.mode(mode);
  }

  public void healLink() {
    proxy.mode(FaultProxy.Mode.OPEN);
  }

  /**
   * Cuts the master's connection right after each of its next {@code writeCommits} write commits
   * ({@link Integer#MAX_VALUE}: every one) until {@link #keepAcknowledgements()}.
   */
  public void loseAcknowledgements(int writeCommits) {
    proxy.cutAfterWriteCommits(writeCommits);
  }

  public void keepAcknowledgements() {
    proxy.stopCutting();
  }

  /** How many of its connections lost an acknowledgement so far. */
  public int acknowledgementsLost() {
    return proxy.cuts();
  }

  public void shiftClock(long offsetMillis) throws IOException {
    clock.set(offsetMillis);
  }

  /** Undoes every fault on this master: link open, clock true, running, not paused. */
  public void healAll() throws IOException, InterruptedException {
    healLink();
    keepAcknowledgements();
    shiftClock(0);
    resume();
    restartIfDead();
  }
}
