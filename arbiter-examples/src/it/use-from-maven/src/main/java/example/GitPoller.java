package example;

import io.arbiter.ServiceContext;
import io.arbiter.jdbc.JdbcFence;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A stand-in for a real poller: while it runs, it records a "poll" every 100 ms in the table
 * {@code git_poll}, each write fenced by the token it runs under, so a master that froze and lost
 * the service can write nothing after another master took over.
 */
public final class GitPoller {
  private final JdbcFence fence;
  private volatile Thread thread;

  public GitPoller(JdbcFence fence) {
    this.fence = fence;
  }

  public void start(ServiceContext ctx) {
    Thread t = new Thread(() -> poll(ctx), "git-poller");
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  public void stop() {
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      try {
        t.join(5_000); // must not act after stop returns
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void poll(ServiceContext ctx) {
    while (!Thread.currentThread().isInterrupted() && ctx.isActive()) {
      try {
        fence.write(
            ctx,
            c -> {
              try (Statement st = c.createStatement()) {
                st.execute(
                    "CREATE TABLE IF NOT EXISTS git_poll"
                        + " (member VARCHAR(64) NOT NULL, token BIGINT NOT NULL)");
              }
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO git_poll (member, token) VALUES (?, ?)")) {
                ps.setString(1, ctx.member().toString());
                ps.setLong(2, ctx.token().value());
                return ps.executeUpdate();
              }
            });
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      } catch (SQLException e) {
        // A rejected write (a stale token) stops the service through the context; anything else
        // is retried at the next poll.
      }
    }
  }
}
