package io.arbiter.bench;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Counts the statements a store sends, at the JDBC boundary: a {@link DataSource} wrapped here
 * hands out connections and statements that count every {@code execute}, {@code executeQuery},
 * {@code executeUpdate}, {@code executeLargeUpdate} and {@code executeBatch} call, and every {@code
 * commit()} and {@code rollback()}, as one statement each, keyed by the SQL text. The pool's own
 * traffic (validation, keepalive) does not pass through here and is not counted.
 *
 * <p>Waits for PostgreSQL notifications ({@code PGConnection.getNotifications(timeout)}, reached
 * through {@code unwrap}) are counted apart: they read the socket and send nothing, so they are not
 * statements.
 */
final class StatementCounter {
  static final String COUNTED =
      "JDBC calls at the driver: execute/executeQuery/executeUpdate/executeBatch each count 1,"
          + " and so does every commit() and rollback()";

  private static final Pattern SPACES = Pattern.compile("\\s+");
  private static final Pattern PARAM_LIST = Pattern.compile("\\?(\\s*,\\s*\\?)+");

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> nanos = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();
  private final LongAdder notificationWaits = new LongAdder();

  /** A data source whose connections count what they run here. */
  DataSource wrap(DataSource dataSource) {
    return proxy(DataSource.class, dataSource, this::onDataSource);
  }

  /** Forgets everything counted so far (the start of a measurement window). */
  void reset() {
    counts.clear();
    nanos.clear();
    total.reset();
    notificationWaits.reset();
  }

  long total() {
    return total.sum();
  }

  long notificationWaits() {
    return notificationWaits.sum();
  }

  /** Statement text (whitespace collapsed, IN lists shortened) → {count, total nanoseconds}. */
  Map<String, long[]> bySql() {
    Map<String, long[]> out = new TreeMap<>();
    counts.forEach(
        (sql, n) -> {
          LongAdder t = nanos.get(sql);
          out.put(sql, new long[] {n.sum(), t == null ? 0 : t.sum()});
        });
    return out;
  }

  private void count(String sql, long elapsedNanos) {
    String key = normalize(sql);
    counts.computeIfAbsent(key, k -> new LongAdder()).increment();
    nanos.computeIfAbsent(key, k -> new LongAdder()).add(elapsedNanos);
    total.increment();
  }

  static String normalize(String sql) {
    if (sql == null) {
      return "(unknown)";
    }
    String s = SPACES.matcher(sql.trim()).replaceAll(" ");
    return PARAM_LIST.matcher(s).replaceAll("?, ...");
  }

  private Object onDataSource(DataSource target, Method m, Object[] args) throws Throwable {
    Object result = invoke(target, m, args);
    if (result instanceof Connection c) {
      return proxy(Connection.class, c, this::onConnection);
    }
    return result;
  }

  private Object onConnection(Connection target, Method m, Object[] args) throws Throwable {
    String name = m.getName();
    switch (name) {
      case "commit", "rollback" -> {
        long t0 = System.nanoTime();
        Object r = invoke(target, m, args);
        count(name.toUpperCase(), System.nanoTime() - t0);
        return r;
      }
      case "createStatement", "prepareStatement", "prepareCall" -> {
        Object st = invoke(target, m, args);
        String sql = name.equals("createStatement") ? null : (String) args[0];
        @SuppressWarnings("unchecked")
        Class<Statement> type = (Class<Statement>) m.getReturnType();
        return proxy(type, (Statement) st, (s, sm, sargs) -> onStatement(s, sm, sargs, sql));
      }
      case "unwrap" -> {
        Object raw = invoke(target, m, args);
        Class<?> iface = (Class<?>) args[0];
        // PGConnection: count the notification waits of the LISTEN thread.
        if (iface.isInterface() && !iface.getName().startsWith("java.")) {
          return Proxy.newProxyInstance(
              iface.getClassLoader(),
              new Class<?>[] {iface},
              (p, um, uargs) -> {
                if (um.getName().equals("getNotifications")) {
                  notificationWaits.increment();
                }
                return invoke(raw, um, uargs);
              });
        }
        return raw;
      }
      default -> {
        return invoke(target, m, args);
      }
    }
  }

  private Object onStatement(Statement target, Method m, Object[] args, String prepared)
      throws Throwable {
    String name = m.getName();
    if (!name.startsWith("execute")) {
      return invoke(target, m, args);
    }
    String sql =
        name.equals("executeBatch") || name.equals("executeLargeBatch")
            ? "(batch) " + (prepared == null ? "" : prepared)
            : args != null && args.length > 0 && args[0] instanceof String s ? s : prepared;
    long t0 = System.nanoTime();
    try {
      return invoke(target, m, args);
    } finally {
      count(sql, System.nanoTime() - t0);
    }
  }

  @FunctionalInterface
  private interface Handler<T> {
    Object handle(T target, Method method, Object[] args) throws Throwable;
  }

  private static <T> T proxy(Class<T> type, T target, Handler<T> handler) {
    InvocationHandler h = (p, m, args) -> handler.handle(target, m, args);
    return type.cast(
        Proxy.newProxyInstance(StatementCounter.class.getClassLoader(), new Class<?>[] {type}, h));
  }

  private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
