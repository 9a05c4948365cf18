package io.courier.topic;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics each audience has, kept in memory so that a publish checks its topic without touching
 * the database. Filled by {@link Topics} from the store at startup and on every creation. Topics are
 * never deleted, so the catalogue only grows. Any thread; lock-free reads.
 */
public final class Catalog {
    private final ConcurrentHashMap<String, Set<String>> topicsByAudience = new ConcurrentHashMap<>();

    public boolean contains(String audience, String topic) {
        Set<String> topics = topicsByAudience.get(audience);
        return topics != null && topics.contains(topic);
    }

    public void add(String audience, String topic) {
        topicsByAudience
                .computeIfAbsent(audience, a -> ConcurrentHashMap.newKeySet())
                .add(topic);
    }

    public int audienceCount() {
        return topicsByAudience.size();
    }

    public int topicCount() {
        return topicsByAudience.values().stream().mapToInt(Set::size).sum();
    }
}
