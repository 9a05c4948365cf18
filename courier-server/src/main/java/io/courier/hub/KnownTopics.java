package io.courier.hub;

/**
 * Whether an audience has a topic, asked before every publish and subscribe. Implementations answer
 * from memory, at once, from any thread (an event loop asks): they never block. The hub knows topics
 * only through this question, never through the store that records them.
 */
@FunctionalInterface
public interface KnownTopics {
    boolean contains(String audience, String topic);
}
