package io.arbiter.internal.engine;

import io.arbiter.FencingToken;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.MemberId;
import io.arbiter.ServiceContext;

/**
 * The {@link ServiceContext} of one grant: valid while the grant is current and the lease holds.
 */
final class ServiceGrant implements ServiceContext {
  private final FencingToken token;
  private final MemberLease lease;
  private final ClusterEngine cluster;
  private volatile boolean ended;

  ServiceGrant(FencingToken token, MemberLease lease, ClusterEngine cluster) {
    this.token = token;
    this.lease = lease;
    this.cluster = cluster;
  }

  @Override
  public String serviceName() {
    return token.service();
  }

  @Override
  public MemberId member() {
    return token.holder();
  }

  @Override
  public FencingToken token() {
    return token;
  }

  @Override
  public boolean isActive() {
    if (PlantedBugs.NO_SELF_FENCE) {
      return !ended && token.holder().equals(lease.current()); // ignores the deadline: a bug
    }
    return !ended && lease.isValid(token.holder());
  }

  @Override
  public void fencingRejected(FencingTokenRejectedException rejection) {
    cluster.onFencingRejected(this, rejection);
  }

  void end() {
    ended = true;
  }

  @Override
  public String toString() {
    return token.toString();
  }
}
