package io.arbiter.chaos.nemesis;

import io.arbiter.chaos.ChaosMaster;
import io.arbiter.chaos.Fault;

/**
 * Cuts one master's link to the database through its proxy: BLACKHOLE (connections hang, as in a
 * partition) or RESET (they drop). A cut longer than the lease must make the master stop its
 * services before the database lets another master claim them.
 */
public final class LinkNemesis implements Nemesis {
  @Override
  public Healing inject(Fault fault, ChaosMaster target) {
    target.cutLink(fault.linkMode());
    return target::healLink;
  }
}
