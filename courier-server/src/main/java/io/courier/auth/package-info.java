/**
 * Authentication: who a request or connection acts for. Owns bearer-JWT verification and minting
 * ({@link io.courier.auth.JwtKeys}, {@link io.courier.auth.TokenVerifier},
 * {@link io.courier.auth.TokenIssuer}, all JOSE work done by nimbus-jose-jwt), the short-lived
 * encrypted connection keys handed out by {@code GET /v1/sign} ({@link io.courier.auth.ConnectionKeys}),
 * and the resulting {@link io.courier.auth.Principal}.
 *
 * <p>I/O happens in the {@code load} methods at startup (reading a configured key file, or generating a
 * secret once into the data directory) and, with {@code courier.jwt.jwks.url}, on the
 * {@code courier-jwks} thread that fetches the issuer's keys ({@link io.courier.auth.JwksCache}).
 * Verification never does I/O or waits for a fetch: it is thread-safe and cheap enough to call on the
 * event loop.
 */
package io.courier.auth;
