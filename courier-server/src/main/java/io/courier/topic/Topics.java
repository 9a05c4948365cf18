package io.courier.topic;

import io.courier.config.HistorySettings;
import io.courier.hub.KnownTopics;
import io.courier.store.AsyncStore;
import io.courier.store.Topic;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The one owner of "does this audience have this topic" and "create a topic": the store records
 * topics, the in-memory {@link Catalog} answers the hot-path question, and this class keeps the two
 * in step so no caller (an HTTP route, the assembler) does it by hand.
 *
 * <p>A single node is the only writer, so its catalogue is complete once {@link #load} has run and
 * every creation passes through here: {@link #resolve} answers from memory alone. In a cluster
 * ({@link #shared}) other nodes create topics too. Each creation is announced ({@link
 * #announceWith}) and the others learn it ({@link #learned}); a miss that an announcement has not
 * (yet) filled asks the store, at most one lookup per name at a time (concurrent misses share it),
 * and a name the store does not have answers "no" from memory for {@link #MISS_TTL_NANOS} after,
 * unless an announcement clears it sooner. So a flood of one unknown name costs about one query a
 * second, and the lookups are bounded by the store's worker queue (a full queue fails them with
 * EUNAVAILABLE).
 *
 * <p>Threads: {@link #contains} and {@link #resolve} from any thread, lock-free, never blocking
 * (event loops ask before every publish and subscribe). Futures complete on the store's worker
 * threads, or at once when memory answers.
 */
public final class Topics implements KnownTopics {
    /** The bound: a miss is cached for at most one second. */
    static final long MISS_TTL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Past this many cached misses, expired ones are swept (a flood of distinct unknown names). */
    private static final int MISSES_SWEEP_AT = 10_000;

    private static final CompletableFuture<Boolean> YES = CompletableFuture.completedFuture(true);
    private static final CompletableFuture<Boolean> NO = CompletableFuture.completedFuture(false);

    private record Key(String audience, String topic) {}

    private final AsyncStore store;
    private final boolean shared;
    private final LongSupplier nanoClock;
    private final Catalog catalog = new Catalog();
    /** When the store last said it has no such topic (nanoClock). */
    private final ConcurrentHashMap<Key, Long> misses = new ConcurrentHashMap<>();
    /** One lookup in flight per name. */
    private final ConcurrentHashMap<Key, CompletableFuture<Boolean>> lookups = new ConcurrentHashMap<>();

    private final LongAdder storeLookups = new LongAdder();
    private volatile Announcer announcer = (audience, topic, history) -> {};

    /** Tells the other nodes of a cluster about a topic this node created. */
    @FunctionalInterface
    public interface Announcer {
        void announce(String audience, String topic, HistorySettings history);
    }

    /** A single node's topics: its catalogue is complete, a miss is a miss. */
    public Topics(AsyncStore store) {
        this(store, false, System::nanoTime);
    }

    /** @param shared true in a cluster, where other nodes create topics in the same store */
    public Topics(AsyncStore store, boolean shared, LongSupplier nanoClock) {
        this.store = store;
        this.shared = shared;
        this.nanoClock = nanoClock;
    }

    @Override
    public boolean contains(String audience, String topic) {
        return catalog.contains(audience, topic);
    }

    @Override
    public HistorySettings history(String audience, String topic) {
        return catalog.history(audience, topic);
    }

    /**
     * Whether the audience has the topic, asking the store on a miss in a cluster (see the class
     * comment). Fails with the store's error (e.g. EUNAVAILABLE) when it cannot answer.
     */
    @Override
    public CompletableFuture<Boolean> resolve(String audience, String topic) {
        if (catalog.contains(audience, topic)) {
            return YES;
        }
        if (!shared) {
            return NO;
        }
        Key key = new Key(audience, topic);
        Long missedAt = misses.get(key);
        if (missedAt != null && nanoClock.getAsLong() - missedAt < MISS_TTL_NANOS) {
            return NO;
        }
        CompletableFuture<Boolean> mine = new CompletableFuture<>();
        CompletableFuture<Boolean> running = lookups.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        storeLookups.increment();
        store.findTopic(audience, topic).whenComplete((found, error) -> {
            if (error == null) {
                if (found.isPresent()) {
                    catalog.add(audience, topic, found.get().history());
                    misses.remove(key);
                } else {
                    remember(key);
                }
            }
            lookups.remove(key, mine);
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                // An announcement may have landed while the store was asked.
                mine.complete(found.isPresent() || catalog.contains(audience, topic));
            }
        });
        return mine;
    }

    private void remember(Key key) {
        long now = nanoClock.getAsLong();
        if (misses.size() >= MISSES_SWEEP_AT) {
            misses.values().removeIf(at -> now - at >= MISS_TTL_NANOS);
        }
        misses.put(key, now);
    }

    /** Store lookups made on catalogue misses since start ({@code courier_topic_lookups_total}). */
    public long storeLookups() {
        return storeLookups.sum();
    }

    /** Called after each topic this node creates; in a cluster, tells the others. */
    public void announceWith(Announcer announcer) {
        this.announcer = Objects.requireNonNull(announcer, "announcer");
    }

    /** Another node created the topic: known here at once, and no cached miss hides it. Any thread. */
    public void learned(String audience, String topic, HistorySettings history) {
        catalog.add(audience, topic, history);
        misses.remove(new Key(audience, topic));
    }

    /**
     * Records the topic, then adds it to the catalogue (and announces it) before the future
     * completes, so a client may subscribe to it, on any node, as soon as it has the answer.
     *
     * @throws io.courier.error.CourierException through the future, as {@link AsyncStore#createTopic} does
     */
    public CompletableFuture<Topic> create(String audience, String topic, HistorySettings history) {
        return store.createTopic(audience, topic, history).thenApply(created -> {
            learned(created.audience(), created.name(), created.history());
            announcer.announce(created.audience(), created.name(), created.history());
            return created;
        });
    }

    /** The audience's topics as the store has them, oldest first. */
    public CompletableFuture<List<Topic>> list(String audience) {
        return store.listTopics(audience);
    }

    /**
     * Fills the catalogue with every stored topic; fails, and may be retried, while the store is
     * down. Run at startup, and in a cluster again after a NATS outage, for the announcements missed.
     */
    public CompletableFuture<Void> load() {
        return store.allTopics().thenAccept(topics -> {
            for (Topic t : topics) {
                learned(t.audience(), t.name(), t.history());
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
