package example;

import io.arbiter.Cluster;
import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusteredService;
import io.arbiter.balance.Placement;
import io.arbiter.balance.ServiceSpec;
import io.arbiter.spi.ClusterStore;
import java.util.List;

/** The README's balancing example: weights, tags, anti-affinity, a local service, a drain. */
final class BalancingRules {
  private BalancingRules() {}

  static Cluster build(
      ClusterStore store,
      ClusteredService poller,
      ClusteredService nightly,
      ClusteredService force) {
    // README: balancing
    Cluster cluster =
        Cluster.builder(store, ClusterConfig.builder("m1").capacity(2).tags(List.of("web")).build())
            .service(new ServiceSpec("ui-poller", 1, Placement.ANYWHERE.requireTag("web")), poller)
            .service(new ServiceSpec("nightly", 3, Placement.ANYWHERE.antiAffinity("heavy")), nightly)
            .service(new ServiceSpec("force-scheduler", 1,
                Placement.ANYWHERE.requireTag("web").onEveryMatchingMaster()), force) // a local service
            .build();
    new ClusterAdmin(store).drain("m1");      // or: arbiter drain m1 / undrain m1 / move SVC --to m2
    // README: end
    return cluster;
  }
}
