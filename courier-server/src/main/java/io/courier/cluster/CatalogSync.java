package io.courier.cluster;

import io.courier.config.HistorySettings;

/**
 * What the broker tells this node's topic catalogue: the topics other nodes create, and when it may
 * have missed some. Implementations never block (the broker calls from its own threads).
 */
public interface CatalogSync {
    /** Another node announced that it created {@code topic} in {@code audience}, with these history settings. */
    void learned(String audience, String topic, HistorySettings history);

    /** This node was cut off from NATS and may have missed announcements: reload from the store. */
    void reload();
}
