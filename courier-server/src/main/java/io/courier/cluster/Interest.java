package io.courier.cluster;

import java.util.HashMap;
import java.util.concurrent.CompletableFuture;

/**
 * One subject this node has interest in: a topic's, or an audience's broadcast subject. Shared by the
 * {@link NatsBroker}, which counts the local subscribers ({@code refs}, under its map's lock) and
 * holds the NATS subscription ({@code subscribed}, on its cluster thread), and {@link Inbound}, which
 * checks and orders what arrives on it (dispatcher thread only).
 */
final class Interest {
    final String audience;
    /** Null for an audience's broadcast subject. */
    final String topic;

    final String audienceHeader;
    final String topicHeader;
    final CompletableFuture<Void> ready = new CompletableFuture<>();
    int refs;
    long generation;
    boolean subscribed;
    /** Dispatcher thread only: the last sequence seen per origin while this interest is held. */
    final HashMap<String, Long> lastSeq = new HashMap<>();
    /**
     * Dispatcher thread only: messages waiting for the catalogue to resolve their topic, so that
     * later ones of the same subject do not overtake them.
     */
    CompletableFuture<Void> backlog = CompletableFuture.completedFuture(null);

    Interest(String audience, String topic) {
        this.audience = audience;
        this.topic = topic;
        this.audienceHeader = Subjects.escape(audience);
        this.topicHeader = topic == null ? null : Subjects.escape(topic);
    }
}
