package io.courier.hub;

import io.courier.config.HistorySettings;
import java.util.concurrent.CompletableFuture;

/**
 * Whether an audience has a topic, asked before every publish and subscribe. {@link #contains}
 * answers from memory, at once, from any thread (an event loop asks): it never blocks. The hub
 * knows topics only through this question, never through the store that records them.
 */
@FunctionalInterface
public interface KnownTopics {
    boolean contains(String audience, String topic);

    /**
     * The topic's history settings, from memory, at once: {@link HistorySettings#NONE} for a topic
     * without history or one not known here. Any thread; never blocks.
     */
    default HistorySettings history(String audience, String topic) {
        return HistorySettings.NONE;
    }

    /**
     * Like {@link #contains}, for callers that can wait: in a cluster a miss may be a topic another
     * node just created, and the answer may come later (from the store). Completes at once on a hit,
     * and on a single node always. Never blocks the caller.
     */
    default CompletableFuture<Boolean> resolve(String audience, String topic) {
        return CompletableFuture.completedFuture(contains(audience, topic));
    }
}
