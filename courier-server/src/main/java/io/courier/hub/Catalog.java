package io.courier.hub;

import io.courier.store.Topic;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics each audience has, kept in memory so that a publish checks its topic without touching
 * the database. Loaded from the store at startup and told of every topic created afterwards.
 * Topics are never deleted, so the catalogue only grows. Any thread; lock-free reads.
 */
public final class Catalog {
    private final ConcurrentHashMap<String, Set<String>> topicsByAudience = new ConcurrentHashMap<>();

    public boolean contains(String audience, String topic) {
        Set<String> topics = topicsByAudience.get(audience);
        return topics != null && topics.contains(topic);
    }

    public void add(String audience, String topic) {
        topicsByAudience.computeIfAbsent(audience, a -> ConcurrentHashMap.newKeySet()).add(topic);
    }

    public void addAll(Collection<Topic> topics) {
        for (Topic t : topics) {
            add(t.audience(), t.name());
        }
    }

    public int audienceCount() {
        return topicsByAudience.size();
    }

    public int topicCount() {
        return topicsByAudience.values().stream().mapToInt(Set::size).sum();
    }
}
