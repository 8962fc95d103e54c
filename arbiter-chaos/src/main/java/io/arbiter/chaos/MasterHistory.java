package io.arbiter.chaos;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one master says it did: the JSON lines {@link MasterHistoryWriter} appends ({@link
 * ChaosMasterMain} {@code --history FILE}) (see docs/verification.md for the format). A restarted
 * master appends a new "start" line and then its own events; monotonic times ({@code nanos}, {@code
 * sent_nanos}) compare only within one such {@link Segment}.
 */
public final class MasterHistory {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LINE_START = "{\"type\":";

  /**
   * One line. Fields a type does not have are -1 or null.
   *
   * @param line its line number in the file, from 1
   */
  public record Event(
      int line,
      String type,
      String member,
      long incarnation,
      String service,
      long token,
      long sentNanos,
      long nanos,
      long wallMillis,
      String outcome,
      String reason,
      String raw) {

    public boolean isLease() {
      return "join".equals(type) || "renew".equals(type);
    }

    /** A line about a start or stop callback ("starting", "started", ... "stopped"). */
    public boolean isCallback() {
      return type != null
          && (type.startsWith("start") && !"start".equals(type) || type.startsWith("stop"));
    }

    public boolean isAct() {
      return "act".equals(type);
    }

    /** An attempt that went ahead (it wrote, or tried to): every outcome but "skipped". */
    public boolean actedForReal() {
      return isAct() && !"skipped".equals(outcome);
    }
  }

  /** The events of one process, after its "start" line. */
  public record Segment(
      int line, long pid, long leaseTtlMillis, long selfFenceMarginMillis, List<Event> events) {}

  private final String member;
  private final String file;
  private final List<Segment> segments;
  private final int unreadable;

  private MasterHistory(String member, String file, List<Segment> segments, int unreadable) {
    this.member = member;
    this.file = file;
    this.segments = segments;
    this.unreadable = unreadable;
  }

  public static MasterHistory read(String member, Path file) throws IOException {
    List<String> lines =
        Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    return parse(member, file.getFileName().toString(), lines);
  }

  /**
   * Parses the lines of one history file. A master killed with -9 may leave a half-written last
   * line, and its successor's "start" line may then follow on the same line: such a line is
   * salvaged from its last complete object, and what cannot be read is counted, not guessed.
   */
  public static MasterHistory parse(String member, String file, List<String> lines) {
    List<Segment> segments = new ArrayList<>();
    List<Event> current = null;
    int unreadable = 0;
    for (int i = 0; i < lines.size(); i++) {
      String text = lines.get(i).trim();
      if (text.isEmpty()) {
        continue;
      }
      JsonNode node = readObject(text);
      if (node == null) {
        unreadable++;
        continue;
      }
      Event e = event(i + 1, node);
      if ("start".equals(e.type())) {
        current = new ArrayList<>();
        segments.add(
            new Segment(
                e.line(),
                node.path("pid").asLong(-1),
                node.path("lease_ttl_ms").asLong(-1),
                node.path("self_fence_margin_ms").asLong(-1),
                current));
      } else if (current == null) {
        unreadable++; // events with no "start" before them have no process to belong to
      } else {
        current.add(e);
      }
    }
    return new MasterHistory(member, file, List.copyOf(segments), unreadable);
  }

  private static JsonNode readObject(String text) {
    JsonNode node = tryRead(text);
    if (node == null) {
      int last = text.lastIndexOf(LINE_START);
      node = last > 0 ? tryRead(text.substring(last)) : null;
    }
    return node != null && node.isObject() && node.hasNonNull("type") ? node : null;
  }

  private static JsonNode tryRead(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static Event event(int line, JsonNode n) {
    return new Event(
        line,
        n.path("type").asText(),
        n.path("member").asText(null),
        n.path("incarnation").asLong(-1),
        n.path("service").asText(null),
        n.path("token").asLong(-1),
        n.path("sent_nanos").asLong(-1),
        n.path("nanos").asLong(-1),
        n.path("wall_ms").asLong(-1),
        n.path("outcome").asText(null),
        n.path("reason").asText(null),
        n.toString());
  }

  public String member() {
    return member;
  }

  /** The file name, for excerpts ("m2.jsonl:118"). */
  public String file() {
    return file;
  }

  public List<Segment> segments() {
    return segments;
  }

  /** Lines that could not be read (a torn last line of a killed master, say). */
  public int unreadableLines() {
    return unreadable;
  }

  /** Attempts to act, by outcome ("ok", "rejected", "unknown", "skipped"). */
  public Map<String, Long> actsByOutcome() {
    Map<String, Long> counts = new TreeMap<>();
    for (Segment s : segments) {
      for (Event e : s.events()) {
        if (e.isAct()) {
          counts.merge(String.valueOf(e.outcome()), 1L, Long::sum);
        }
      }
    }
    return counts;
  }
}
