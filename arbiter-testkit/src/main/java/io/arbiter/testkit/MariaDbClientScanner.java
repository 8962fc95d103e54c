package io.arbiter.testkit;

import java.nio.charset.StandardCharsets;

/**
 * {@link ClientStreamScanner} for the MariaDB/MySQL client protocol: packets of a 3-byte
 * little-endian length, a sequence number and the payload. A command starts a new exchange
 * (sequence 0); the commit point is the end of a COM_QUERY (0x03) whose text is COMMIT, which is
 * what MariaDB Connector/J sends for {@code Connection.commit()} (its statements go as text queries
 * unless server-side prepared statements are turned on). A first packet of 32 bytes is a request
 * for TLS, after which nothing can be read.
 */
final class MariaDbClientScanner implements ClientStreamScanner {
  private static final int COM_QUERY = 0x03;
  private static final int KEEP = 8192;
  private static final int SSL_REQUEST_LENGTH = 32;

  private final byte[] header = new byte[4];
  private int headerRead;
  private int length;
  private int sequence;
  private int bodyRead;
  private byte[] body = new byte[256];
  private boolean firstPacket = true;
  private boolean disabled;
  private boolean wrote;
  private boolean lastCommitWrote;

  @Override
  public boolean lastCommitWrote() {
    return lastCommitWrote;
  }

  @Override
  public int nextCommit(byte[] buf, int from, int to) {
    int i = from;
    while (i < to) {
      if (disabled) {
        return -1;
      }
      if (headerRead < 4) {
        header[headerRead++] = buf[i++];
        if (headerRead == 4) {
          length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
          sequence = header[3] & 0xff;
          bodyRead = 0;
          if (length == 0 && packetDone()) {
            return i;
          }
        }
        continue;
      }
      int n = Math.min(to - i, length - bodyRead);
      int room = Math.min(KEEP - bodyRead, n);
      if (room > 0) {
        if (body.length < bodyRead + room) {
          body = java.util.Arrays.copyOf(body, Math.max(bodyRead + room, body.length * 2));
        }
        System.arraycopy(buf, i, body, bodyRead, room);
      }
      bodyRead += n;
      i += n;
      if (bodyRead == length && packetDone()) {
        return i;
      }
    }
    return -1;
  }

  /** One whole packet read; true if it is a commit point. */
  private boolean packetDone() {
    headerRead = 0;
    if (firstPacket) {
      firstPacket = false;
      if (length == SSL_REQUEST_LENGTH) {
        disabled = true; // TLS follows
      }
      return false;
    }
    int kept = Math.min(length, KEEP);
    if (sequence != 0 || kept < 1 || (body[0] & 0xff) != COM_QUERY) {
      return false; // authentication, a continuation or another command
    }
    boolean commit = false;
    for (SqlKind kind : SqlKind.ofScript(new String(body, 1, kept - 1, StandardCharsets.UTF_8))) {
      switch (kind) {
        case BEGIN, ROLLBACK -> wrote = false;
        case WRITE -> wrote = true;
        case COMMIT -> {
          lastCommitWrote = wrote;
          wrote = false;
          commit = true;
        }
        default -> {
          // reads change nothing
        }
      }
    }
    return commit;
  }
}
