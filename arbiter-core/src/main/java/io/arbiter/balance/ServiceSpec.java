package io.arbiter.balance;

/**
 * A clustered service as the balancer sees it.
 *
 * @param weight how much load it brings (default 1)
 */
public record ServiceSpec(String name, double weight, Placement placement) {
  public ServiceSpec {
    if (!(weight > 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("weight of " + name + " must be a finite number > 0");
    }
  }

  public static ServiceSpec of(String name) {
    return new ServiceSpec(name, 1, Placement.ANYWHERE);
  }
}
