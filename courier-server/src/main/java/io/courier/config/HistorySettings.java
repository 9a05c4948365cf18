package io.courier.config;

/**
 * What one topic keeps for recovery, chosen when it is created ({@code POST /v1/topic} with
 * {@code "history":{"size":100,"ttl":300}}) and never changed: at most {@code size} messages, each
 * for at most {@code ttlSeconds}. Size 0 means no history, and then the topic behaves exactly as
 * topics always have (no offsets, no recovery). Lives with the configuration because the store,
 * the topic catalogue, the cluster and the history all read it, and config is what they all share.
 */
public record HistorySettings(int size, int ttlSeconds) {
    /** A topic without history. */
    public static final HistorySettings NONE = new HistorySettings(0, 0);

    public HistorySettings {
        if (size < 0 || ttlSeconds < 0) {
            throw new IllegalArgumentException("history size " + size + ", ttl " + ttlSeconds + " (expected: >= 0)");
        }
    }

    /** True when the topic keeps history. */
    public boolean enabled() {
        return size > 0;
    }
}
