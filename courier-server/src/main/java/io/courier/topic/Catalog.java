package io.courier.topic;

import io.courier.config.HistorySettings;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics each audience has, kept in memory so that a publish checks its topic without touching
 * the database. Filled by {@link Topics} from the store at startup and on every creation. Topics are
 * never deleted, so the catalogue only grows. Each topic carries its history settings, fixed at
 * creation. Any thread; lock-free reads.
 */
public final class Catalog {
    private final ConcurrentHashMap<String, Map<String, HistorySettings>> topicsByAudience = new ConcurrentHashMap<>();

    public boolean contains(String audience, String topic) {
        Map<String, HistorySettings> topics = topicsByAudience.get(audience);
        return topics != null && topics.containsKey(topic);
    }

    /** The topic's history settings; {@link HistorySettings#NONE} when it keeps none or is unknown. */
    public HistorySettings history(String audience, String topic) {
        Map<String, HistorySettings> topics = topicsByAudience.get(audience);
        HistorySettings settings = topics == null ? null : topics.get(topic);
        return settings == null ? HistorySettings.NONE : settings;
    }

    /** A topic without history (tests and benchmarks). */
    public void add(String audience, String topic) {
        add(audience, topic, HistorySettings.NONE);
    }

    /** Settings never change once known: a later add of the same topic keeps the first. */
    public void add(String audience, String topic, HistorySettings history) {
        topicsByAudience
                .computeIfAbsent(audience, a -> new ConcurrentHashMap<>())
                .putIfAbsent(topic, history);
    }

    public int audienceCount() {
        return topicsByAudience.size();
    }

    public int topicCount() {
        return topicsByAudience.values().stream().mapToInt(Map::size).sum();
    }
}
