package io.arbiter.examples.buildfarm;

import io.arbiter.ClusteredService;
import io.arbiter.FencingTokenRejectedException;
import io.arbiter.ServiceContext;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcFence;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stand-in for a poller or scheduler. Every {@code interval} it decides to act, checks {@link
 * ServiceContext#isActive()} (the cheap local check), does some work (as a poller fetches from a
 * repository), then writes a tick fenced by its token. A master frozen between the check and the
 * write wakes up with a stale token: its write reaches the database and the fence rejects it, which
 * is exactly the case fencing exists for. Every attempt is told to a {@link TickObserver}.
 */
public final class TickingService implements ClusteredService {
  private static final Logger log = LoggerFactory.getLogger(TickingService.class);

  private final DataSource dataSource;
  private final Dialect dialect;
  private final JdbcFence fence;
  private final Duration interval;
  private final AtomicLong accepted;
  private final AtomicLong rejected;
  private final TableOnce table;
  private final Duration work;
  private final TickObserver observer;
  private volatile Run current;

  /** Creates the tick table at the first start of any service sharing it, not at every start. */
  public static final class TableOnce {
    private volatile boolean created;

    public synchronized void ensure(DataSource ds, Dialect dialect) throws SQLException {
      if (!created) {
        BuildFarmWorkload.createTable(ds, dialect);
        created = true;
      }
    }
  }

  /**
   * @param dataSource where the tick table is created
   * @param fence the fence of the ticks' writes ({@code arbiter.fence(dataSource)})
   */
  public TickingService(
      DataSource dataSource,
      Dialect dialect,
      JdbcFence fence,
      TableOnce table,
      Duration interval,
      Duration work,
      TickObserver observer,
      AtomicLong accepted,
      AtomicLong rejected) {
    this.table = table;
    this.work = work;
    this.observer = observer;
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.fence = fence;
    this.interval = interval;
    this.accepted = accepted;
    this.rejected = rejected;
  }

  @Override
  public void start(ServiceContext context) throws SQLException {
    table.ensure(dataSource, dialect);
    Run run = new Run(context);
    current = run;
    Thread t = new Thread(run, "tick-" + context.serviceName());
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void stop(ServiceContext context) throws InterruptedException {
    Run run = current;
    if (run != null && run.context == context) {
      run.stop.countDown();
      run.done.await(5, TimeUnit.SECONDS);
    }
  }

  private final class Run implements Runnable {
    final ServiceContext context;
    final CountDownLatch stop = new CountDownLatch(1);
    final CountDownLatch done = new CountDownLatch(1);

    Run(ServiceContext context) {
      this.context = context;
    }

    @Override
    public void run() {
      try {
        do {
          if (!tick()) {
            return;
          }
        } while (!stop.await(interval.toMillis(), TimeUnit.MILLISECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        done.countDown();
      }
    }

    /** One decision to act; false once the fence has rejected this grant or it was stopped. */
    private boolean tick() throws InterruptedException {
      long decided = System.nanoTime();
      if (!context.isActive()) {
        observer.act(context.token(), decided, TickObserver.Outcome.SKIPPED);
        return true; // the lease ran out here: Arbiter is stopping this service
      }
      if (!work.isZero() && stop.await(work.toMillis(), TimeUnit.MILLISECONDS)) {
        return false; // stopped during the work: abandon it, write nothing
      }
      try {
        fence.write(
            context,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "INSERT INTO "
                          + BuildFarmWorkload.TABLE
                          + " (service, token, member, incarnation, written_at) VALUES (?, ?, ?, ?, "
                          + dialect.now()
                          + ")")) {
                ps.setString(1, context.serviceName());
                ps.setLong(2, context.token().value());
                ps.setString(3, context.member().name());
                ps.setLong(4, context.member().incarnation());
                return ps.executeUpdate();
              }
            });
        accepted.incrementAndGet();
        observer.act(context.token(), decided, TickObserver.Outcome.OK);
        return true;
      } catch (FencingTokenRejectedException e) {
        rejected.incrementAndGet();
        observer.act(context.token(), decided, TickObserver.Outcome.REJECTED);
        return false; // Arbiter has been told (it logs both tokens) and stops this service
      } catch (SQLException | RuntimeException e) {
        observer.act(context.token(), decided, TickObserver.Outcome.UNKNOWN);
        log.debug("tick of {} failed: {}", context.serviceName(), e.toString());
        return true;
      }
    }
  }
}
