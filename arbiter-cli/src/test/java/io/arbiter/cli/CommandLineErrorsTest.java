package io.arbiter.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.testkit.TestDatabases;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Bad input to the `arbiter` command: exit code 2 and a message that names the field and rule. */
class CommandLineErrorsTest {

  private record Outcome(int code, String err) {}

  private static Outcome run(String... args) {
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(err, true), args);
    return new Outcome(code, err.toString());
  }

  @Test
  void anUnknownUrlSchemeIsRefused() {
    Outcome o = run("master", "--db", "jdbc:oracle:thin:@db:1521/x", "--name", "m1");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err())
        .contains("--db")
        .contains("unknown URL scheme")
        .contains("jdbc:postgresql://");
  }

  @Test
  void anEmptyOrOddMemberNameIsRefused() {
    Outcome empty = run("master", "--db", "jdbc:postgresql://127.0.0.1:1/x", "--name", "");
    assertThat(empty.code()).isEqualTo(2);
    assertThat(empty.err()).contains("--name").contains("must not be empty");
    Outcome odd = run("master", "--db", "jdbc:postgresql://127.0.0.1:1/x", "--name", "a b");
    assertThat(odd.err()).contains("letters, digits");
  }

  @Test
  void aTtlThatCannotBeRenewedIsRefused() {
    Outcome o =
        run(
            "master",
            "--db",
            "jdbc:postgresql://127.0.0.1:1/x",
            "--name",
            "m",
            "--lease-ttl",
            "0s");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("--lease-ttl").contains("positive");
  }

  @Test
  void aDurationThatIsNotOneSaysHowToWriteIt() {
    Outcome o =
        run("master", "--db", "jdbc:postgresql://127.0.0.1:1/x", "--name", "m", "--tick", "often");
    assertThat(o.code()).isEqualTo(2);
    assertThat(o.err()).contains("'often' is not a duration").contains("250ms");
  }

  @Test
  void statusNeedsARunningDatabase() {
    Outcome embedded = run("status");
    assertThat(embedded.code()).isEqualTo(2);
    assertThat(embedded.err()).contains("needs the JDBC URL of a running database");

    Outcome unreachable = run("status", "--db", "jdbc:postgresql://127.0.0.1:1/nowhere");
    assertThat(unreachable.code()).isEqualTo(2);
    assertThat(unreachable.err()).contains("127.0.0.1:1/nowhere").contains("Connection");
  }

  @Test
  void aNegativeCapacityOrAnOddTagIsRefused() {
    Outcome capacity =
        run("master", "--db", "jdbc:postgresql://127.0.0.1:1/x", "--name", "m", "--capacity", "-1");
    assertThat(capacity.code()).isEqualTo(2);
    assertThat(capacity.err()).contains("--capacity").contains(">= 0");
    Outcome tag =
        run("master", "--db", "jdbc:postgresql://127.0.0.1:1/x", "--name", "m", "--tags", "a b");
    assertThat(tag.code()).isEqualTo(2);
    assertThat(tag.err()).contains("--tags").contains("letters, digits");
  }

  @Test
  void drainAndMoveNameWhatIsWrong() {
    String url = TestDatabases.embeddedPostgresUrl();
    try (JdbcArbiter arbiter = JdbcArbiter.builder(url).createSchema(true).build()) {
      arbiter.initializeSchema();
    }
    Outcome drain = run("drain", "no-such-master", "--db", url);
    assertThat(drain.code()).isEqualTo(2);
    assertThat(drain.err()).contains("arbiter drain").contains("no master named no-such-master");
    Outcome move = run("move", "no-such-service", "--to", "m1", "--db", url);
    assertThat(move.code()).isEqualTo(2);
    assertThat(move.err()).contains("no service named no-such-service");
    Outcome noTarget = run("move", "svc", "--db", url);
    assertThat(noTarget.code()).isEqualTo(2);
    assertThat(noTarget.err()).contains("--to");
  }
}
