package io.courier.topic;

import io.courier.hub.KnownTopics;
import io.courier.store.AsyncStore;
import io.courier.store.Topic;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The one owner of "does this audience have this topic" and "create a topic": the store records
 * topics, the in-memory {@link Catalog} answers the hot-path question, and this class keeps the two
 * in step so no caller (an HTTP route, the assembler) does it by hand.
 *
 * <p>This is the seam the cluster work needs: on a catalogue miss, {@link #contains} must be able to
 * ask the store (another node may have created the topic), and {@link #create} must tell the other
 * nodes of a creation. Neither exists yet: a single node is the only writer, so its catalogue is
 * complete once {@link #load} has run and every creation passes through here.
 *
 * <p>Threads: {@link #contains} from any thread, lock-free, never blocking (event loops ask it
 * before every publish and subscribe). {@link #create}, {@link #list} and {@link #load} return
 * futures that complete on the store's worker threads.
 */
public final class Topics implements KnownTopics {
    private final AsyncStore store;
    private final Catalog catalog = new Catalog();

    public Topics(AsyncStore store) {
        this.store = store;
    }

    @Override
    public boolean contains(String audience, String topic) {
        return catalog.contains(audience, topic);
    }

    /**
     * Records the topic, then adds it to the catalogue before the future completes, so a client may
     * subscribe to it as soon as it has the answer.
     *
     * @throws io.courier.error.CourierException through the future, as {@link AsyncStore#createTopic} does
     */
    public CompletableFuture<Topic> create(String audience, String topic) {
        return store.createTopic(audience, topic).thenApply(created -> {
            catalog.add(created.audience(), created.name());
            return created;
        });
    }

    /** The audience's topics as the store has them, oldest first. */
    public CompletableFuture<List<Topic>> list(String audience) {
        return store.listTopics(audience);
    }

    /** Fills the catalogue with every stored topic; fails, and may be retried, while the store is down. */
    public CompletableFuture<Void> load() {
        return store.allTopics().thenAccept(topics -> {
            for (Topic t : topics) {
                catalog.add(t.audience(), t.name());
            }
        });
    }

    public int audienceCount() {
        return catalog.audienceCount();
    }

    public int topicCount() {
        return catalog.topicCount();
    }
}
