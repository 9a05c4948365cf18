package io.courier.auth;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Who a request or connection acts for: the token's single {@code aud}, its {@code sub} when present,
 * and when the bearer token that proved it expires.
 *
 * @param audience  the audience (tenant) every topic operation is scoped to; never empty
 * @param subject   the end user, when the token names one
 * @param expiresAt the bearer token's {@code exp}, carried through a connection key so that a socket can
 *                  be closed when the token it was opened with expires; empty when not known
 */
public record Principal(String audience, Optional<String> subject, Optional<Instant> expiresAt) {
    public Principal {
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** A principal whose token expiry is not known. */
    public Principal(String audience, Optional<String> subject) {
        this(audience, subject, Optional.empty());
    }
}
