package io.arbiter.bench;

/**
 * Keeps a bench's output readable: with thousands of services, the engine's INFO lines (one per
 * service started or stopped) would bury the figures. slf4j-simple reads a logger's level when the
 * logger is created, so this must run before the engine's classes are first used. A level the user
 * set with -D is left alone.
 */
final class BenchLogs {
  private BenchLogs() {}

  static void quiet(boolean verbose) {
    // One line per service start and stop: never wanted at this scale.
    setIfAbsent("org.slf4j.simpleLogger.log.io.arbiter.internal.engine.ServiceSlot", "warn");
    // Its start and leave lines list every service by name: 10,000 names per master.
    setIfAbsent("org.slf4j.simpleLogger.log.io.arbiter.Cluster", "warn");
    // Joins, hand-overs and claims: shown with --verbose (timestamped, useful to see the phases).
    setIfAbsent("org.slf4j.simpleLogger.log.io.arbiter", verbose ? "info" : "warn");
    setIfAbsent("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "warn");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
