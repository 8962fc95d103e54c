package io.arbiter.peer;

import io.arbiter.MemberId;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How this master sees one peer now.
 *
 * @param peer the peer's name and the incarnation in the database
 * @param address the peer link address it advertises, if any
 * @param classification the two channels combined
 * @param lastHeard time since the peer last answered a ping on the link, if ever
 * @param roundTrip the last ping's round trip, if any
 * @param databaseLeaseLeft the peer's lease left by the database's clock, extrapolated from the
 *     last read on this master's monotonic clock; empty if this master's view of the database is
 *     stale
 * @param since how long the peer has had this classification
 */
public record PeerView(
    MemberId peer,
    Optional<String> address,
    PeerClassification classification,
    Optional<Duration> lastHeard,
    Optional<Duration> roundTrip,
    Optional<Duration> databaseLeaseLeft,
    Duration since) {

  /** The longest compact view; the database column peer_view holds 4000 characters. */
  public static final int MAX_COMPACT_CHARS = 4000;

  /**
   * The compact form of a view, e.g. {@code "b#3=alive c#1=partitioned"}, sorted by name. It
   * changes only when a classification or an incarnation does, so it can be written to the database
   * on change only. Cut to {@value #MAX_COMPACT_CHARS} characters with a count of the peers left
   * out.
   */
  public static String compact(List<PeerView> views) {
    StringBuilder sb = new StringBuilder();
    int shown = 0;
    for (PeerView v : views) {
      String item = v.peer() + "=" + v.classification().shortName();
      String more = " +" + (views.size() - shown) + " more";
      if (sb.length() + 1 + item.length() + more.length() > MAX_COMPACT_CHARS) {
        sb.append(more);
        return sb.toString();
      }
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(item);
      shown++;
    }
    return sb.toString();
  }
}
