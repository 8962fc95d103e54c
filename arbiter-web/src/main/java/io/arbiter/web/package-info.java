/**
 * What a server embeds for the web: {@link io.arbiter.web.ArbiterSessionHandler}, the shared
 * sessions of {@code io.arbiter.sessions} on a Javalin server, so that a user logged in on one
 * master is logged in on every master. See docs/sessions.md.
 */
package io.arbiter.web;
