package io.courier.store;

import java.time.Instant;
import java.util.UUID;

/** A tenant: the value of a token's audience claim, created once with {@code POST /v1/audience}. */
public record Audience(UUID id, String name, Instant createdAt, Instant updatedAt) {}
