package io.arbiter.testkit;

/**
 * Follows the client-to-server byte stream of one database connection and finds where each COMMIT
 * ends: the last byte of the message (or, in PostgreSQL's extended protocol, of the Sync after it)
 * that makes the server commit. {@link FaultProxy} forwards up to there and then cuts the
 * connection, so that the transaction commits while the client hears an error.
 *
 * <p>It also tells whether the committed transaction wrote (an INSERT, UPDATE, DELETE and the like
 * since the last BEGIN, COMMIT or ROLLBACK). Statements in autocommit mode commit with no COMMIT
 * and are not seen as commits. Once the stream is encrypted (TLS), the scanner gives up and finds
 * nothing.
 */
interface ClientStreamScanner {
  /**
   * Scans {@code buf[from, to)}.
   *
   * @return the index just after the first commit point in the range, or -1 if there is none (all
   *     of the range has then been consumed); after a commit point, call again from there
   */
  int nextCommit(byte[] buf, int from, int to);

  /** Whether the transaction of the commit point last returned wrote anything. */
  boolean lastCommitWrote();

  static ClientStreamScanner forUrl(String jdbcUrl) {
    return jdbcUrl.startsWith("jdbc:postgresql:")
        ? new PostgresClientScanner()
        : new MariaDbClientScanner();
  }
}
