/**
 * Authentication: who a request or connection acts for. Owns bearer-JWT verification and minting
 * ({@link io.courier.auth.JwtKeys}, {@link io.courier.auth.TokenVerifier},
 * {@link io.courier.auth.TokenIssuer}, all JOSE work done by nimbus-jose-jwt), the short-lived
 * encrypted connection keys handed out by {@code GET /v1/sign} ({@link io.courier.auth.ConnectionKeys}),
 * and the resulting {@link io.courier.auth.Principal}.
 *
 * <p>The only I/O happens in the {@code load} methods at startup: reading a configured key file, or
 * generating a secret once into the data directory. Everything built from them is immutable and
 * thread-safe, and cheap enough to call on the event loop.
 */
package io.courier.auth;
