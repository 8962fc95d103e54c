package io.arbiter.internal.peer;

import io.arbiter.MemberId;
import io.arbiter.peer.PeerDirectory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A directory held in memory for link-only tests: every member renews (its lease is always fully
 * left) unless a test says otherwise.
 */
final class StaticDirectory implements PeerDirectory {
  private final Map<String, Member> members = new ConcurrentHashMap<>();

  void put(MemberId id, String address) {
    members.put(
        id.name(),
        new Member(id.name(), id.incarnation(), Optional.ofNullable(address), true, 3000, 100));
  }

  void put(Member m) {
    members.put(m.name(), m);
  }

  void remove(String name) {
    members.remove(name);
  }

  @Override
  public Snapshot snapshot() {
    return new Snapshot(System.nanoTime(), List.copyOf(members.values()));
  }
}
