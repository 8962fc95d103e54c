package io.arbiter.chaos;

import java.util.Map;

/**
 * A fault as it happened. Times are on the database's clock (epoch milliseconds), like the ticks'
 * {@code written_at}, so the checker compares them with no second clock involved.
 *
 * @param targetName the master it hit ("m2"), or "database"
 * @param startMillis when it began (the signal, the cut, the database stop)
 * @param healMillis when it was healed (restart, SIGCONT, link open, database up, clock reset)
 * @param affectedTokens the services it could interrupt, each with its token when the fault began:
 *     the target's services, or every service for a database restart
 * @param note why it was not injected as planned, or null
 */
public record InjectedFault(
    Fault fault,
    String targetName,
    long startMillis,
    long healMillis,
    Map<String, Long> affectedTokens,
    String note) {

  public FaultKind kind() {
    return fault.kind();
  }

  public boolean injected() {
    return note == null;
  }

  public boolean activeAt(long millis) {
    return millis >= startMillis && millis <= healMillis;
  }

  /** "#4 pause m2" for excerpts. */
  public String label() {
    return "#" + fault.number() + " " + fault.kind().label() + " " + targetName;
  }
}
