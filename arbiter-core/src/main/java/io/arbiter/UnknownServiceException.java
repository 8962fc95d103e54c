package io.arbiter;

/** No clustered service of that name is registered with the cluster. */
public final class UnknownServiceException extends ArbiterException {
  private final String service;

  public UnknownServiceException(String service, int registered) {
    super(
        "no service named "
            + service
            + " ("
            + registered
            + " services registered; see `arbiter status`)");
    this.service = service;
  }

  /** The name asked for. */
  public String service() {
    return service;
  }
}
