package io.arbiter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * `arbiter bench balance`, `bench idle` and `bench evict` at small sizes on embedded PostgreSQL:
 * the JSON line carries the figures, and they are sane (moves happen, no overlap, quick
 * convergence, about one statement per second per master at rest).
 */
class BalanceAndIdleBenchTest {
  private record Outcome(int code, JsonNode json, String out) {}

  private static Outcome run(String... args) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int code;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      code = BenchCommand.run(new PrintWriter(err, true), args);
    } finally {
      System.setOut(original);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    System.out.print(err);
    List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as("output of %s", String.join(" ", args)).isNotEmpty();
    JsonNode json = new ObjectMapper().readTree(lines.get(lines.size() - 1));
    return new Outcome(code, json, out);
  }

  @Test
  void balanceMovesAboutAFairShareToTheNewMasterWithoutOverlap() throws Exception {
    Outcome o = run("balance", "--services", "200", "--masters", "4", "--json");

    assertThat(o.code()).isZero();
    JsonNode j = o.json();
    for (String key :
        List.of(
            "moves",
            "ideal_moves",
            "moves_over_ideal",
            "converge_ms",
            "max_over_mean_load",
            "max_gap_ms",
            "gap_p50_ms",
            "gap_p99_ms",
            "overlaps",
            "services",
            "masters",
            "db")) {
      assertThat(j.has(key)).as("key %s in %s", key, j).isTrue();
    }
    assertThat(j.get("services").asInt()).isEqualTo(200);
    assertThat(j.get("masters").asInt()).isEqualTo(4);
    assertThat(j.get("ideal_moves").asInt()).isEqualTo(50);
    assertThat(j.get("moves").asInt()).isBetween(1, 100);
    assertThat(j.get("overlaps").asInt()).isZero();
    assertThat(j.get("unconverged").asInt()).isZero();
    assertThat(j.get("converge_ms").asLong()).isBetween(0L, 30_000L);
    // Every move is one stop followed by one start, and a gap ends before convergence does.
    assertThat(j.get("handoffs").asInt()).isGreaterThanOrEqualTo(j.get("moves").asInt());
    // Gaps count from the newcomer's start, convergence from its join (which can lag under load).
    assertThat(j.get("max_gap_ms").asDouble())
        .isBetween(0.0, j.get("converge_ms").asDouble() + j.get("join_ms").asDouble() + 500);
    assertThat(j.get("max_over_mean_load").asDouble()).isBetween(1.0, 1.5);
    assertThat(j.get("db").asText()).containsIgnoringCase("postgres");
  }

  @Test
  void idleCostsAboutOneStatementPerSecondPerMaster() throws Exception {
    Outcome o =
        run("idle", "--services", "50", "--masters", "2", "--measure", "3s", "--verbose", "--json");

    assertThat(o.code()).isZero();
    JsonNode j = o.json();
    for (int size : List.of(100, 50)) {
      String key = "statements_per_s_per_master_" + size;
      assertThat(j.has(key)).as("key %s in %s", key, j).isTrue();
      assertThat(j.get(key).asDouble()).as(key).isGreaterThan(0).isLessThan(5);
      assertThat(j.get("statements_per_s_max_" + size).asDouble())
          .isGreaterThanOrEqualTo(j.get(key).asDouble());
    }
    // The heartbeat is counted (it is the one statement a master must run at rest).
    assertThat(j.get("by_sql_50").toString()).contains("UPDATE arbiter_member");
    assertThat(j.get("counted").asText()).contains("commit");
  }

  @Test
  void evictAppliesInvalidationsOnEveryOtherMasterAndMissesNothingAfterACut() throws Exception {
    Outcome o =
        run(
            "evict",
            "--masters",
            "3",
            "--rate",
            "100",
            "--duration",
            "3s",
            "--disconnect",
            "3s",
            "--json");

    assertThat(o.code()).isZero();
    JsonNode j = o.json();
    for (String key :
        List.of("evict_p50_ms", "evict_p99_ms", "events_per_s", "missed_after_disconnect")) {
      assertThat(j.has(key)).as("key %s in %s", key, j).isTrue();
    }
    assertThat(j.get("samples").asInt()).as("applications measured").isPositive();
    assertThat(j.get("evict_p99_ms").asDouble())
        .isGreaterThanOrEqualTo(j.get("evict_p50_ms").asDouble())
        .isLessThan(5_000);
    assertThat(j.get("events_per_s").asDouble()).isPositive();
    assertThat(j.get("events_during_disconnect").asInt()).as("published while cut").isPositive();
    assertThat(j.get("missed_after_disconnect").asInt()).isZero();
  }
}
