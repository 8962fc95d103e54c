package io.arbiter.peer;

/**
 * How this master sees one peer, combining the two channels: the database (is the peer renewing its
 * lease?) and the peer link (does the peer answer pings?).
 */
public enum PeerClassification {
  /** Answers on the link and renews in the database. */
  ALIVE("alive"),
  /**
   * Answers on the link but does not renew in the database: its own lease runs out on its own
   * clock, so it fences itself; nobody needs to wait beyond its lease.
   */
  CUT_OFF_FROM_DATABASE("cut-off-db"),
  /**
   * Renews in the database but does not answer on the link: the link between it and this master is
   * cut. The database still says it is alive, so nothing fails over. Logged as a WARN.
   */
  PARTITIONED_FROM_ME("partitioned"),
  /** Neither answers on the link nor renews in the database. */
  DEAD("dead"),
  /**
   * Advertises no link address (an older master, or the link is off): judged by the database only.
   * Shown so that a missing channel is visible, never confused with a partition.
   */
  NO_LINK("no-link"),
  /**
   * This master's own view of the database is older than the staleness bound (it may be the one cut
   * off), so it cannot tell whether the peer renews.
   */
  UNKNOWN("unknown");

  private final String shortName;

  PeerClassification(String shortName) {
    this.shortName = shortName;
  }

  /** The short form used in the compact view string. */
  public String shortName() {
    return shortName;
  }

  /** The classification of the two channels' facts; see the table in docs/peer-link.md. */
  public static PeerClassification of(boolean hasAddress, boolean aliveOnLink, Boolean renewing) {
    if (renewing == null) {
      return UNKNOWN;
    }
    if (!hasAddress) {
      return renewing ? NO_LINK : DEAD;
    }
    if (aliveOnLink) {
      return renewing ? ALIVE : CUT_OFF_FROM_DATABASE;
    }
    return renewing ? PARTITIONED_FROM_ME : DEAD;
  }
}
