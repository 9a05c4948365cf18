package io.courier.auth;

import java.util.Objects;
import java.util.Optional;

/**
 * Who a request or connection acts for: the token's single {@code aud} and, when present, its {@code sub}.
 *
 * @param audience the audience (tenant) every topic operation is scoped to; never empty
 * @param subject  the end user, when the token names one
 */
public record Principal(String audience, Optional<String> subject) {
    public Principal {
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(subject, "subject");
    }
}
