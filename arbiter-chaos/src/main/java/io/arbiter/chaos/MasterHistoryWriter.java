package io.arbiter.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.ClusterListener;
import io.arbiter.FencingToken;
import io.arbiter.MemberId;
import io.arbiter.examples.buildfarm.TickObserver;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes what one master did, as JSON lines for the chaos checker: its joins and renewals (with the
 * monotonic time each was sent), its fences, and every attempt of a service to act. A restarted
 * master appends to the same file after a new "start" line; monotonic times compare only within one
 * such segment. {@link MasterHistory} reads it back; the format is documented in
 * docs/verification.md.
 */
public final class MasterHistoryWriter implements ClusterListener, TickObserver, AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;
  private final String member;

  private MasterHistoryWriter(BufferedWriter out, String member) {
    this.out = out;
    this.member = member;
  }

  /** Appends to {@code file}, beginning with a "start" line. */
  public static MasterHistoryWriter open(
      Path file, String member, long leaseTtlMillis, long marginMillis) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    BufferedWriter w =
        Files.newBufferedWriter(
            file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    MasterHistoryWriter h = new MasterHistoryWriter(w, member);
    Map<String, Object> start = h.line("start");
    start.put("pid", ProcessHandle.current().pid());
    start.put("lease_ttl_ms", leaseTtlMillis);
    start.put("self_fence_margin_ms", marginMillis);
    h.write(start);
    return h;
  }

  @Override
  public void joined(MemberId m, long sentNanos) {
    lease("join", m, sentNanos);
  }

  @Override
  public void renewed(MemberId m, long sentNanos) {
    lease("renew", m, sentNanos);
  }

  @Override
  public void fenced(MemberId m, String reason) {
    Map<String, Object> l = line("fence");
    l.put("incarnation", m.incarnation());
    l.put("reason", reason);
    write(l);
  }

  /** One attempt of a service to act; {@code decidedNanos} is when it decided to. */
  @Override
  public void act(FencingToken token, long decidedNanos, Outcome outcome) {
    Map<String, Object> l = line("act");
    l.put("service", token.service());
    l.put("incarnation", token.holder().incarnation());
    l.put("token", token.value());
    l.put("nanos", decidedNanos);
    l.put("outcome", outcome.name().toLowerCase());
    write(l);
  }

  /**
   * A start or stop callback of the service of {@code token}: "starting", "started",
   * "start_failed", "stopping" or "stopped", with a detail (a delay, an error) or null.
   */
  public void callback(String type, FencingToken token, String detail) {
    Map<String, Object> l = line(type);
    l.put("service", token.service());
    l.put("incarnation", token.holder().incarnation());
    l.put("token", token.value());
    if (detail != null) {
      l.put("reason", detail);
    }
    write(l);
  }

  private void lease(String type, MemberId m, long sentNanos) {
    Map<String, Object> l = line(type);
    l.put("incarnation", m.incarnation());
    l.put("sent_nanos", sentNanos);
    write(l);
  }

  private Map<String, Object> line(String type) {
    Map<String, Object> l = new LinkedHashMap<>();
    l.put("type", type);
    l.put("member", member);
    l.put("nanos", System.nanoTime());
    l.put("wall_ms", System.currentTimeMillis());
    return l;
  }

  /** Flushed line by line: a master killed with -9 loses at most the line being written. */
  private synchronized void write(Map<String, Object> l) {
    try {
      out.write(JSON.writeValueAsString(l));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the history: " + e, e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
