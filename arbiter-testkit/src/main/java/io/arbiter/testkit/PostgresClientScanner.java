package io.arbiter.testkit;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link ClientStreamScanner} for the PostgreSQL frontend protocol (version 3). Untyped messages
 * first (an SSL or GSS request, the startup message), then typed ones: a type byte, a 4-byte length
 * that counts itself, the body. It reads the simple query ('Q') and the extended protocol's Parse,
 * Bind and Execute ('P', 'B', 'E'), tracking named statements and portals, because the JDBC driver
 * sends a repeated COMMIT as a Bind of a statement it prepared earlier. An Execute of a COMMIT
 * makes the next Sync ('S') the commit point.
 */
final class PostgresClientScanner implements ClientStreamScanner {
  private static final int SSL_REQUEST = 80877103;
  private static final int GSS_REQUEST = 80877104;

  /** Bodies longer than this are read only this far: enough for the names and first keyword. */
  private static final int KEEP = 8192;

  private boolean startup = true;
  private boolean disabled;
  private boolean headerDone;
  private int type;
  private final byte[] header = new byte[5];
  private int headerRead;
  private int length;
  private int bodyRead;
  private byte[] body = new byte[256];

  private final Map<String, SqlKind> statements = new HashMap<>();
  private final Map<String, SqlKind> portals = new HashMap<>();
  private boolean wrote;
  private boolean commitPending;
  private boolean commitPendingWrote;
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
      int headerSize = startup ? 4 : 5;
      if (!headerDone) {
        if (startup && headerRead == 0 && buf[i] == 0x16) {
          disabled = true; // a TLS handshake: the server accepted SSL, nothing more to read
          return -1;
        }
        header[headerRead++] = buf[i++];
        if (headerRead == headerSize) {
          int off = startup ? 0 : 1;
          type = startup ? 0 : header[0];
          length = readInt(header, off) - 4;
          if (length < 0) {
            disabled = true; // not a stream we understand
            return -1;
          }
          headerDone = true;
          bodyRead = 0;
          if (length == 0 && messageDone()) {
            return i;
          }
        }
        continue;
      }
      int n = Math.min(to - i, length - bodyRead);
      keep(buf, i, n);
      bodyRead += n;
      i += n;
      if (bodyRead == length && messageDone()) {
        return i;
      }
    }
    return -1;
  }

  private void keep(byte[] buf, int off, int n) {
    int room = Math.min(KEEP - bodyRead, n);
    if (room <= 0) {
      return;
    }
    if (body.length < bodyRead + room) {
      body = java.util.Arrays.copyOf(body, Math.max(bodyRead + room, body.length * 2));
    }
    System.arraycopy(buf, off, body, bodyRead, room);
  }

  /** One whole message read; true if it is a commit point. */
  private boolean messageDone() {
    headerDone = false;
    headerRead = 0;
    int kept = Math.min(length, KEEP);
    if (startup) {
      int code = kept >= 4 ? readInt(body, 0) : 0;
      // After an SSL or GSS request another untyped message follows (if the server declined).
      startup = code == SSL_REQUEST || code == GSS_REQUEST;
      return false;
    }
    switch (type) {
      case 'Q' -> {
        boolean commit = false;
        for (SqlKind kind : SqlKind.ofScript(cString(kept, 0))) {
          commit |= apply(kind);
        }
        return commit;
      }
      case 'P' -> {
        String name = cString(kept, 0);
        String sql = cString(kept, name.getBytes(StandardCharsets.UTF_8).length + 1);
        statements.put(name, SqlKind.of(sql));
      }
      case 'B' -> {
        String portal = cString(kept, 0);
        String statement = cString(kept, portal.getBytes(StandardCharsets.UTF_8).length + 1);
        portals.put(portal, statements.getOrDefault(statement, SqlKind.OTHER));
      }
      case 'E' -> {
        if (apply(portals.getOrDefault(cString(kept, 0), SqlKind.OTHER))) {
          commitPending = true;
          commitPendingWrote = lastCommitWrote;
        }
      }
      case 'C' -> {
        if (kept > 1 && body[0] == 'S') {
          statements.remove(cString(kept, 1));
        }
      }
      case 'S' -> {
        if (commitPending) {
          commitPending = false;
          lastCommitWrote = commitPendingWrote;
          return true;
        }
      }
      default -> {
        // other messages do not change what a transaction is
      }
    }
    return false;
  }

  /** Applies one statement; true if it commits. */
  private boolean apply(SqlKind kind) {
    switch (kind) {
      case BEGIN, ROLLBACK -> wrote = false;
      case WRITE -> wrote = true;
      case COMMIT -> {
        lastCommitWrote = wrote;
        wrote = false;
        return true;
      }
      default -> {
        // reads change nothing
      }
    }
    return false;
  }

  private String cString(int kept, int from) {
    int end = from;
    while (end < kept && body[end] != 0) {
      end++;
    }
    return from >= kept ? "" : new String(body, from, end - from, StandardCharsets.UTF_8);
  }

  private static int readInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24)
        | ((b[off + 1] & 0xff) << 16)
        | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }
}
