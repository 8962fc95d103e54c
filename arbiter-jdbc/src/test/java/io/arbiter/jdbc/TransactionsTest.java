package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.ArbiterException;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * {@link Transactions#inTransaction} on a connection whose rollback or auto-commit reset fails: the
 * work's own failure is what the caller hears (later ones ride along as suppressed), a failed
 * rollback is never followed by {@code setAutoCommit(true)} (which would commit the half-done
 * work), and a committed transaction is reported as committed.
 */
class TransactionsTest {

  /** A connection that records its calls and throws on the methods named in {@code failing}. */
  private static final class ScriptedConnection {
    final List<String> calls = new ArrayList<>();
    final Set<String> failing;
    final Connection proxy;

    ScriptedConnection(Set<String> failing) {
      this.failing = failing;
      this.proxy =
          (Connection)
              Proxy.newProxyInstance(
                  Connection.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (p, method, args) -> {
                    String call =
                        method.getName()
                            + (args != null && args.length == 1 ? "(" + args[0] + ")" : "");
                    calls.add(call);
                    if (failing.contains(call) || failing.contains(method.getName())) {
                      throw new SQLException(call + " failed", "08006");
                    }
                    return method.getReturnType() == boolean.class ? Boolean.FALSE : null;
                  });
    }
  }

  private static Transactions on(ScriptedConnection c) {
    DataSource ds =
        new DataSource() {
          @Override
          public Connection getConnection() {
            return c.proxy;
          }

          @Override
          public Connection getConnection(String user, String password) {
            return c.proxy;
          }

          @Override
          public PrintWriter getLogWriter() {
            return null;
          }

          @Override
          public void setLogWriter(PrintWriter out) {}

          @Override
          public void setLoginTimeout(int seconds) {}

          @Override
          public int getLoginTimeout() {
            return 0;
          }

          @Override
          public Logger getParentLogger() {
            return null;
          }

          @Override
          public <T> T unwrap(Class<T> iface) {
            return null;
          }

          @Override
          public boolean isWrapperFor(Class<?> iface) {
            return false;
          }
        };
    return new Transactions(ds, "jdbc:test://db");
  }

  private static Transactions.Work<Object> failingWork() {
    return c -> {
      throw new SQLException("the work's own failure", "40001");
    };
  }

  @Test
  void theWorksFailureIsReportedWhenResettingAutoCommitFailsToo() {
    ScriptedConnection c = new ScriptedConnection(Set.of("setAutoCommit(true)"));
    assertThatThrownBy(() -> on(c).inTransaction("claiming", failingWork()))
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("the work's own failure")
        .satisfies(
            e ->
                assertThat(e.getCause().getSuppressed())
                    .extracting(Throwable::getMessage)
                    .containsExactly("setAutoCommit(true) failed"));
    assertThat(c.calls).contains("rollback", "close");
  }

  @Test
  void aFailedRollbackIsKeptAsSuppressedAndAutoCommitIsNotTurnedBackOn() {
    ScriptedConnection c = new ScriptedConnection(Set.of("rollback"));
    assertThatThrownBy(() -> on(c).inTransaction("claiming", failingWork()))
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("the work's own failure")
        .satisfies(
            e ->
                assertThat(e.getCause().getSuppressed())
                    .extracting(Throwable::getMessage)
                    .containsExactly("rollback failed"));
    // setAutoCommit(true) inside a transaction commits it: after a failed rollback it must not run.
    assertThat(c.calls).doesNotContain("setAutoCommit(true)").contains("close");
  }

  @Test
  void aCommittedTransactionIsReportedAsCommittedEvenIfResettingAutoCommitFails() {
    ScriptedConnection c = new ScriptedConnection(Set.of("setAutoCommit(true)"));
    String result = on(c).inTransaction("claiming", conn -> "done");
    assertThat(result).isEqualTo("done");
    assertThat(c.calls).containsSubsequence("setAutoCommit(false)", "commit", "close");
  }

  @Test
  void aFailedCommitIsReportedWithTheRollbacksFailureSuppressed() {
    ScriptedConnection c = new ScriptedConnection(Set.of("commit", "rollback"));
    assertThatThrownBy(() -> on(c).inTransaction("claiming", conn -> "done"))
        .isInstanceOf(ArbiterException.class)
        .hasMessageContaining("commit failed")
        .satisfies(
            e ->
                assertThat(e.getCause().getSuppressed())
                    .extracting(Throwable::getMessage)
                    .containsExactly("rollback failed"));
  }
}
