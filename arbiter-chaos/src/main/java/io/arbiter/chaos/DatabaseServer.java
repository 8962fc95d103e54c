package io.arbiter.chaos;

/** A database server the run connects to but cannot restart (no {@code dbrestart} faults). */
record DatabaseServer(String jdbcUrl) implements ChaosDatabase {
  @Override
  public String label() {
    return jdbcUrl.startsWith("jdbc:postgresql:") ? "PostgreSQL server" : "MariaDB/MySQL server";
  }

  @Override
  public boolean restartable() {
    return false;
  }

  @Override
  public void stop() {
    throw new UnsupportedOperationException("the run cannot restart the " + label());
  }

  @Override
  public void start() {
    // always running, as far as the run is concerned
  }

  @Override
  public void close() {
    // not the run's to stop
  }
}
