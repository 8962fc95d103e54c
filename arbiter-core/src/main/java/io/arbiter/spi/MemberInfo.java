package io.arbiter.spi;

import java.util.Optional;
import java.util.Set;

/**
 * Facts a member advertises about itself at join: where it runs (shown by `arbiter status`), what
 * it offers to the balancer, and where its peer link listens.
 *
 * @param capacity its share of the load relative to the others (1 by default, 0 takes nothing)
 * @param tags what it offers, matched by services that require a tag
 * @param peerAddress host:port of its peer link, if it runs one
 */
public record MemberInfo(
    String host, long pid, double capacity, Set<String> tags, Optional<String> peerAddress) {
  public MemberInfo {
    tags = Set.copyOf(tags);
  }

  public MemberInfo(String host, long pid) {
    this(host, pid, 1, Set.of(), Optional.empty());
  }

  public static MemberInfo ofThisProcess() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "unknown";
    }
    return new MemberInfo(host, ProcessHandle.current().pid());
  }

  public MemberInfo withBalancing(double capacity, Set<String> tags) {
    return new MemberInfo(host, pid, capacity, tags, peerAddress);
  }

  public MemberInfo withPeerAddress(Optional<String> peerAddress) {
    return new MemberInfo(host, pid, capacity, tags, peerAddress);
  }
}
