package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/**
 * Injects one kind of fault. {@link #inject} starts it and returns how to heal it; the caller keeps
 * the fault up for {@link Fault#duration()} and then heals it, so every nemesis is the same two
 * steps and the final "heal everything" does not depend on which one ran last.
 */
public interface Nemesis {
  /**
   * Starts {@code fault} on {@code target} (null for faults that hit the database).
   *
   * @return the action that undoes it
   */
  Healing inject(Fault fault, ChaosMaster target) throws Exception;

  /**
   * Undoes what this nemesis may have left when a healing failed, for what healing every master
   * does not cover (the database, the cluster's rules). Nothing by default.
   */
  default void healAll() throws Exception {}

  /** Undoes a fault. */
  @FunctionalInterface
  interface Healing {
    void heal() throws Exception;
  }
}
