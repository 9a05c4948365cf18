package io.courier.store;

import io.courier.config.HistorySettings;
import java.time.Instant;
import java.util.UUID;

/**
 * A named channel inside one audience. Names are unique per audience, so two audiences may both
 * own a topic called {@code "news"}.
 *
 * @param audience the owning audience's name, carried along so callers need no second lookup
 * @param history  what the topic keeps for recovery, fixed at creation ({@link HistorySettings#NONE} for
 *                 topics created before history existed)
 */
public record Topic(
        UUID id,
        String name,
        UUID audienceId,
        String audience,
        Instant createdAt,
        Instant updatedAt,
        HistorySettings history) {}
