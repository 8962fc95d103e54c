package io.arbiter.web;

import io.arbiter.sessions.ClusterSessions;
import io.arbiter.sessions.Session;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared web sessions for a Javalin app: a login made on one master is valid on every master.
 *
 * <p>{@link #install(Javalin, ClusterSessions)} adds a before-handler that reads the session cookie
 * and an after-handler that extends the session (at most once per touch interval, see {@link
 * io.arbiter.sessions.SessionConfig#touchInterval()}). The session is loaded into the context on
 * first use ({@link #currentSession(Context)}), so routes that never look at it cost no statement
 * and keep answering while the database is down. Routes then call {@link #login(Context, String)}
 * after checking credentials, {@link #logout(Context)}, and {@link #currentPrincipal(Context)}.
 *
 * <p>The cookie is {@code HttpOnly} (no script can read it), {@code SameSite=Lax} (not sent on
 * cross-site POSTs), {@code Path=/}, {@code Secure} when {@link
 * io.arbiter.sessions.SessionConfig#cookieSecure()} is set, and has no Max-Age: it ends with the
 * browser session, while the server ends the session after the idle timeout by the database's
 * clock. A cookie that names no live session is answered as "not logged in" and cleared.
 */
public final class ArbiterSessionHandler {
  private static final Logger log = LoggerFactory.getLogger(ArbiterSessionHandler.class);

  private static final String HANDLER = "io.arbiter.web.handler";
  private static final String COOKIE_ID = "io.arbiter.web.cookieId";
  private static final String SESSION = "io.arbiter.web.session";
  private static final String TOUCH = "io.arbiter.web.touch";

  private final ClusterSessions sessions;

  private ArbiterSessionHandler(ClusterSessions sessions) {
    this.sessions = sessions;
  }

  /** Adds the session handlers to {@code app}; call before adding routes. */
  public static ArbiterSessionHandler install(Javalin app, ClusterSessions sessions) {
    ArbiterSessionHandler handler = new ArbiterSessionHandler(sessions);
    app.before(handler::before);
    app.after(handler::after);
    return handler;
  }

  public ClusterSessions sessions() {
    return sessions;
  }

  private void before(Context ctx) {
    ctx.attribute(HANDLER, this);
    String id = ctx.cookie(sessions.config().cookieName());
    if (id != null && !id.isEmpty()) {
      ctx.attribute(COOKIE_ID, id);
    }
  }

  private void after(Context ctx) {
    String id = ctx.attribute(TOUCH);
    if (id == null) {
      return;
    }
    try {
      sessions.touchIfDue(id);
    } catch (RuntimeException e) {
      // The response is decided already; the next request of this session tries again.
      log.warn(
          "could not extend a session of {}: {}", currentPrincipal(ctx).orElse("?"), e.toString());
    }
  }

  /**
   * The request's session, if its cookie names a live one (read from the database at most once per
   * staleness bound per master; at most once per request). A malformed, unknown, expired or
   * invalidated cookie gives empty, never an exception, and the cookie is cleared.
   *
   * @throws io.arbiter.StoreUnavailableException if the database does not answer
   */
  public static Optional<Session> currentSession(Context ctx) {
    Object loaded = ctx.attribute(SESSION);
    if (loaded != null) {
      return ((Holder) loaded).session();
    }
    ArbiterSessionHandler handler = handler(ctx);
    String id = ctx.attribute(COOKIE_ID);
    Optional<Session> session = id == null ? Optional.empty() : handler.sessions.find(id);
    ctx.attribute(SESSION, new Holder(session));
    if (session.isPresent()) {
      ctx.attribute(TOUCH, id);
    } else if (id != null) {
      handler.clearCookie(ctx);
    }
    return session;
  }

  /** Who is logged in on this request, if anyone. */
  public static Optional<String> currentPrincipal(Context ctx) {
    return currentSession(ctx).map(Session::principal);
  }

  /**
   * Logs {@code principal} in (the caller has checked the credentials): invalidates the request's
   * previous session, if any, creates a new one with a fresh id (so a session id planted before the
   * login is worth nothing after it) and sets the cookie.
   */
  public static Session login(Context ctx, String principal) {
    ArbiterSessionHandler handler = handler(ctx);
    String previous = ctx.attribute(COOKIE_ID);
    if (previous != null) {
      handler.sessions.invalidate(previous);
    }
    Session session = handler.sessions.login(principal);
    ctx.cookie(handler.cookie(session.id(), -1));
    ctx.attribute(COOKIE_ID, session.id());
    ctx.attribute(SESSION, new Holder(Optional.of(session)));
    ctx.attribute(TOUCH, null); // just created: nothing to extend
    return session;
  }

  /**
   * Logs out: deletes the request's session in the database (refused on this master at once, on
   * every other master within the staleness bound) and clears the cookie.
   *
   * @return true if there was a live session to end
   */
  public static boolean logout(Context ctx) {
    ArbiterSessionHandler handler = handler(ctx);
    String id = ctx.attribute(COOKIE_ID);
    boolean ended = id != null && handler.sessions.invalidate(id);
    handler.clearCookie(ctx);
    ctx.attribute(COOKIE_ID, null);
    ctx.attribute(SESSION, new Holder(Optional.empty()));
    ctx.attribute(TOUCH, null);
    return ended;
  }

  private void clearCookie(Context ctx) {
    ctx.cookie(cookie("", 0));
  }

  private Cookie cookie(String value, int maxAge) {
    return new Cookie(
        sessions.config().cookieName(),
        value,
        "/",
        maxAge,
        sessions.config().cookieSecure(),
        0,
        true,
        null,
        null,
        SameSite.LAX);
  }

  private static ArbiterSessionHandler handler(Context ctx) {
    ArbiterSessionHandler handler = ctx.attribute(HANDLER);
    if (handler == null) {
      throw new IllegalStateException(
          "no Arbiter sessions on this request: call ArbiterSessionHandler.install(app, sessions)"
              + " before adding routes");
    }
    return handler;
  }

  /** Marks "looked up" apart from "not looked up yet" in the context's attributes. */
  private record Holder(Optional<Session> session) {}
}
