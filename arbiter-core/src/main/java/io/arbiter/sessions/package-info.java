/**
 * Web sessions stored in the shared database, valid on every master. A recipe: built on the public
 * API and the {@link io.arbiter.spi.SessionStore} SPI only; arbiter-web adapts it to HTTP. See
 * docs/sessions.md.
 */
package io.arbiter.sessions;
