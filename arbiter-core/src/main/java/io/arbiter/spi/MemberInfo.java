package io.arbiter.spi;

/** Facts a member advertises about itself, shown by `arbiter status`. */
public record MemberInfo(String host, long pid) {
  public static MemberInfo ofThisProcess() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "unknown";
    }
    return new MemberInfo(host, ProcessHandle.current().pid());
  }
}
