package io.arbiter.peer;

import io.arbiter.InvalidConfigException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * The peer link's settings: where it listens, the cluster secret, and its timings. Immutable; built
 * and validated by {@link #builder(String)}.
 */
public final class PeerLinkConfig {
  /** The shortest cluster secret accepted, in UTF-8 bytes (128 bits of a random string). */
  public static final int MIN_SECRET_BYTES = 16;

  /** Listen on every interface by default; advertise {@link #advertisedAddress()} to peers. */
  public static final String DEFAULT_BIND_HOST = "0.0.0.0";

  /** 0: an ephemeral port, chosen at start and advertised. */
  public static final int DEFAULT_PORT = 0;

  /** How often each peer is pinged. */
  public static final Duration DEFAULT_PING_INTERVAL = Duration.ofMillis(200);

  /** A peer is alive on the link while its last pong is younger than this. */
  public static final Duration DEFAULT_LINK_TIMEOUT = Duration.ofSeconds(1);

  /**
   * A peer whose last renewal (by the database's clock) is older than this is not renewing. Set it
   * to about twice the cluster's renew interval (the default renew interval is 1 s).
   */
  public static final Duration DEFAULT_DATABASE_STALE_AFTER = Duration.ofSeconds(2);

  /** A member neither renewing nor heard for this long is dropped from the view. */
  public static final Duration DEFAULT_FORGET_AFTER = Duration.ofMinutes(1);

  /** How often the directory is read (from its own thread). */
  public static final Duration DEFAULT_DIRECTORY_INTERVAL = Duration.ofMillis(200);

  /** The largest frame accepted, header and MAC included. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

  private final String bindHost;
  private final int port;
  private final String advertisedHost;
  private final byte[] secret;
  private final Duration pingInterval;
  private final Duration linkTimeout;
  private final Duration databaseStaleAfter;
  private final Duration forgetAfter;
  private final Duration directoryInterval;
  private final int maxFrameBytes;

  private PeerLinkConfig(Builder b) {
    this.bindHost = b.bindHost;
    this.port = b.port;
    this.advertisedHost = b.advertisedHost;
    this.secret = b.secret.getBytes(StandardCharsets.UTF_8);
    this.pingInterval = b.pingInterval;
    this.linkTimeout = b.linkTimeout;
    this.databaseStaleAfter = b.databaseStaleAfter;
    this.forgetAfter = b.forgetAfter;
    this.directoryInterval = b.directoryInterval;
    this.maxFrameBytes = b.maxFrameBytes;
  }

  /** A builder with the cluster secret, which has no default. */
  public static Builder builder(String secret) {
    return new Builder(secret);
  }

  public String bindHost() {
    return bindHost;
  }

  public int port() {
    return port;
  }

  /** The host peers should dial, if set; otherwise the link advertises this machine's name. */
  public Optional<String> advertisedHost() {
    return Optional.ofNullable(advertisedHost);
  }

  /** A copy of the shared secret, for the link that signs with it. Never log it. */
  public byte[] secret() {
    return Arrays.copyOf(secret, secret.length);
  }

  public Duration pingInterval() {
    return pingInterval;
  }

  public Duration linkTimeout() {
    return linkTimeout;
  }

  public Duration databaseStaleAfter() {
    return databaseStaleAfter;
  }

  public Duration forgetAfter() {
    return forgetAfter;
  }

  public Duration directoryInterval() {
    return directoryInterval;
  }

  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** The settings without the secret, for the start-up log line. */
  @Override
  public String toString() {
    return "PeerLinkConfig{bind="
        + bindHost
        + ":"
        + port
        + ", advertisedHost="
        + (advertisedHost == null ? "(this host)" : advertisedHost)
        + ", secret=("
        + secret.length
        + " bytes), pingInterval="
        + pingInterval.toMillis()
        + "ms, linkTimeout="
        + linkTimeout.toMillis()
        + "ms, databaseStaleAfter="
        + databaseStaleAfter.toMillis()
        + "ms, forgetAfter="
        + forgetAfter.toSeconds()
        + "s, directoryInterval="
        + directoryInterval.toMillis()
        + "ms, maxFrameBytes="
        + maxFrameBytes
        + "}";
  }

  /** Builds a {@link PeerLinkConfig}; {@link #build()} checks every rule. */
  public static final class Builder {
    private final String secret;
    private String bindHost = DEFAULT_BIND_HOST;
    private int port = DEFAULT_PORT;
    private String advertisedHost;
    private Duration pingInterval = DEFAULT_PING_INTERVAL;
    private Duration linkTimeout = DEFAULT_LINK_TIMEOUT;
    private Duration databaseStaleAfter = DEFAULT_DATABASE_STALE_AFTER;
    private Duration forgetAfter = DEFAULT_FORGET_AFTER;
    private Duration directoryInterval = DEFAULT_DIRECTORY_INTERVAL;
    private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;

    private Builder(String secret) {
      this.secret = secret;
    }

    public Builder bindHost(String bindHost) {
      this.bindHost = bindHost;
      return this;
    }

    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The host name or address other masters dial; the port is the one bound. */
    public Builder advertisedHost(String advertisedHost) {
      this.advertisedHost = advertisedHost;
      return this;
    }

    public Builder pingInterval(Duration pingInterval) {
      this.pingInterval = pingInterval;
      return this;
    }

    public Builder linkTimeout(Duration linkTimeout) {
      this.linkTimeout = linkTimeout;
      return this;
    }

    public Builder databaseStaleAfter(Duration databaseStaleAfter) {
      this.databaseStaleAfter = databaseStaleAfter;
      return this;
    }

    public Builder forgetAfter(Duration forgetAfter) {
      this.forgetAfter = forgetAfter;
      return this;
    }

    public Builder directoryInterval(Duration directoryInterval) {
      this.directoryInterval = directoryInterval;
      return this;
    }

    public Builder maxFrameBytes(int maxFrameBytes) {
      this.maxFrameBytes = maxFrameBytes;
      return this;
    }

    public PeerLinkConfig build() {
      if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
        // Never echo the secret itself: say how long it was.
        String shown =
            secret == null
                ? "null"
                : "(" + secret.getBytes(StandardCharsets.UTF_8).length + " bytes, hidden)";
        throw new InvalidConfigException(
            "peerLink.secret",
            shown,
            "must be at least "
                + MIN_SECRET_BYTES
                + " bytes; use a random string shared by all"
                + " masters of the cluster");
      }
      if (bindHost == null || bindHost.isBlank()) {
        throw new InvalidConfigException(
            "peerLink.bindHost", bindHost, "must be a host name or address");
      }
      if (port < 0 || port > 65535) {
        throw new InvalidConfigException(
            "peerLink.port", port, "must be between 0 (ephemeral) and 65535");
      }
      if (advertisedHost != null && (advertisedHost.isBlank() || advertisedHost.contains(":"))) {
        throw new InvalidConfigException(
            "peerLink.advertisedHost",
            advertisedHost,
            "must be a host name or IPv4 address without a port");
      }
      positive("peerLink.pingInterval", pingInterval);
      positive("peerLink.linkTimeout", linkTimeout);
      positive("peerLink.databaseStaleAfter", databaseStaleAfter);
      positive("peerLink.forgetAfter", forgetAfter);
      positive("peerLink.directoryInterval", directoryInterval);
      if (linkTimeout.compareTo(pingInterval.multipliedBy(2)) < 0) {
        throw new InvalidConfigException(
            "peerLink.linkTimeout",
            linkTimeout,
            "must be at least twice peerLink.pingInterval (" + pingInterval + ")");
      }
      if (maxFrameBytes < 1024 || maxFrameBytes > 16 * 1024 * 1024) {
        throw new InvalidConfigException(
            "peerLink.maxFrameBytes", maxFrameBytes, "must be between 1024 and 16777216");
      }
      return new PeerLinkConfig(this);
    }

    private static void positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new InvalidConfigException(field, d, "must be a positive duration");
      }
    }
  }
}
