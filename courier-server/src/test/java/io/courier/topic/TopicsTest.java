package io.courier.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.store.AsyncStore;
import io.courier.store.Audience;
import io.courier.store.Created;
import io.courier.store.Store;
import io.courier.store.Topic;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Topics#resolve} against a store whose lookups finish only when the test answers them, and
 * a clock the test moves by hand: no database, no sleeping. The {@link AsyncStore} has one worker,
 * so lookups reach the fake store in the order they were asked; {@link #assertStoreNotAsked} relies
 * on that.
 */
class TopicsTest {
    /** A guard against a hung test, never part of an assertion about time. */
    private static final long GUARD_SECONDS = 10;

    private final HeldStore held = new HeldStore();
    private final AsyncStore store = new AsyncStore(held, 1, 64);
    private final AtomicLong clock = new AtomicLong(-7_000_000_000L); // nanoTime may be negative
    private final Topics cluster = new Topics(store, true, clock::get);

    @AfterEach
    void releaseAndClose() {
        held.releaseAll();
        store.close();
    }

    @Test
    void aTopicInTheCatalogueAnswersYesAtOnceWithoutAskingTheStore() throws Exception {
        cluster.learned("acme", "news", HistorySettings.NONE);

        CompletableFuture<Boolean> answer = cluster.resolve("acme", "news");

        assertAnsweredAtOnce(true, answer);
        assertStoreNotAsked(cluster);
    }

    @Test
    void aMissAsksTheStoreOnceAndAFoundTopicIsThenAnsweredFromMemory() throws Exception {
        CompletableFuture<Boolean> first = cluster.resolve("acme", "news");

        assertFalse(first.isDone(), "a miss waits for the store");
        Lookup lookup = held.next();
        assertEquals(List.of("acme", "news"), List.of(lookup.audience(), lookup.topic()));
        lookup.found();
        assertTrue(await(first));
        assertTrue(cluster.contains("acme", "news"), "the store's yes enters the catalogue");

        assertAnsweredAtOnce(true, cluster.resolve("acme", "news"));
        assertStoreNotAsked(cluster);
        assertEquals(1, cluster.storeLookups());
    }

    @Test
    void concurrentMissesForOneNameShareOneStoreLookup() throws Exception {
        CompletableFuture<Boolean> first = cluster.resolve("acme", "news");
        CompletableFuture<Boolean> second = cluster.resolve("acme", "news");
        CompletableFuture<Boolean> third = cluster.resolve("acme", "news");

        assertFalse(second.isDone(), "the second miss waits for the lookup already running");
        held.next().absent();

        assertFalse(await(first));
        assertFalse(await(second));
        assertFalse(await(third));
        assertStoreNotAsked(cluster);
        assertEquals(1, cluster.storeLookups());
    }

    @Test
    void missesFromManyThreadsWhileALookupRunsShareIt() throws Exception {
        int threads = 8;
        ExecutorService callers = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<CompletableFuture<Boolean>>> asked = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                asked.add(callers.submit(() -> {
                    start.await();
                    return cluster.resolve("acme", "news");
                }));
            }
            start.countDown();
            List<CompletableFuture<Boolean>> answers = new ArrayList<>();
            for (Future<CompletableFuture<Boolean>> f : asked) {
                answers.add(f.get(GUARD_SECONDS, TimeUnit.SECONDS));
            }
            // Every caller has its future while the one lookup is still held open.
            held.next().found();

            for (CompletableFuture<Boolean> answer : answers) {
                assertTrue(await(answer));
            }
            assertStoreNotAsked(cluster);
            assertEquals(1, cluster.storeLookups());
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void missesForDifferentNamesDoNotShareALookup() throws Exception {
        CompletableFuture<Boolean> news = cluster.resolve("acme", "news");
        CompletableFuture<Boolean> sport = cluster.resolve("acme", "sport");
        CompletableFuture<Boolean> otherAudience = cluster.resolve("globex", "news");

        held.next().found();
        held.next().absent();
        held.next().found();

        assertTrue(await(news));
        assertFalse(await(sport));
        assertTrue(await(otherAudience));
        assertEquals(3, cluster.storeLookups());
    }

    @Test
    void aNoIsReusedWithinOneSecondWithoutAskingTheStoreAgain() throws Exception {
        missCachedAt(clock.get(), "acme", "news");

        clock.addAndGet(Topics.MISS_TTL_NANOS - 1);
        assertAnsweredAtOnce(false, cluster.resolve("acme", "news"));
        assertStoreNotAsked(cluster);
        assertEquals(1, cluster.storeLookups());
    }

    @Test
    void aNoExpiresAfterOneSecondAndTheNextMissAsksTheStoreAgain() throws Exception {
        missCachedAt(clock.get(), "acme", "news");

        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        CompletableFuture<Boolean> again = cluster.resolve("acme", "news");

        assertFalse(again.isDone(), "an expired no asks the store");
        held.next().found();
        assertTrue(await(again));
        assertEquals(2, cluster.storeLookups());
    }

    @Test
    void anAnnouncementClearsACachedNoAtOnce() throws Exception {
        missCachedAt(clock.get(), "acme", "news");

        cluster.learned("acme", "news", HistorySettings.NONE);

        assertAnsweredAtOnce(true, cluster.resolve("acme", "news"));
        assertStoreNotAsked(cluster);
        assertEquals(1, cluster.storeLookups());
    }

    @Test
    void anAnnouncementForAnotherNameLeavesACachedNoInPlace() throws Exception {
        missCachedAt(clock.get(), "acme", "news");

        cluster.learned("globex", "news", HistorySettings.NONE);
        cluster.learned("acme", "sport", HistorySettings.NONE);

        assertAnsweredAtOnce(false, cluster.resolve("acme", "news"));
        assertStoreNotAsked(cluster);
    }

    @Test
    void anAnnouncementLandingDuringALookupWinsOverTheStoresNo() throws Exception {
        CompletableFuture<Boolean> answer = cluster.resolve("acme", "news");
        Lookup lookup = held.next();

        cluster.learned("acme", "news", HistorySettings.NONE);
        lookup.absent(); // the store was read before the topic was committed

        assertTrue(await(answer));
        assertAnsweredAtOnce(true, cluster.resolve("acme", "news"));
        assertStoreNotAsked(cluster);
    }

    @Test
    void aFailedLookupFailsTheCallersAndIsNotCachedAsANo() throws Exception {
        CompletableFuture<Boolean> first = cluster.resolve("acme", "news");
        CompletableFuture<Boolean> second = cluster.resolve("acme", "news");
        held.next().fail(new CourierException(ErrorCode.EDB_UNAVAILABLE, "database down"));

        for (CompletableFuture<Boolean> answer : List.of(first, second)) {
            ExecutionException e =
                    assertThrows(ExecutionException.class, () -> answer.get(GUARD_SECONDS, TimeUnit.SECONDS));
            CourierException cause = assertInstanceOf(CourierException.class, e.getCause());
            assertEquals(ErrorCode.EDB_UNAVAILABLE, cause.code());
        }

        CompletableFuture<Boolean> retry = cluster.resolve("acme", "news");
        assertFalse(retry.isDone(), "a failure is not a no: the next miss asks again");
        held.next().found();
        assertTrue(await(retry));
        assertEquals(2, cluster.storeLookups());
    }

    @Test
    void aSingleNodeNeverAsksTheStore() throws Exception {
        Topics single = new Topics(store);
        single.learned("acme", "news", HistorySettings.NONE);

        assertAnsweredAtOnce(false, single.resolve("acme", "sport"));
        assertAnsweredAtOnce(false, single.resolve("acme", "sport"));
        assertAnsweredAtOnce(true, single.resolve("acme", "news"));
        assertStoreNotAsked(single);
        assertEquals(0, single.storeLookups());
    }

    /** Runs one lookup for the name that the store answers "no" to, with the clock at {@code at}. */
    private void missCachedAt(long at, String audience, String topic) throws Exception {
        clock.set(at);
        CompletableFuture<Boolean> answer = cluster.resolve(audience, topic);
        held.next().absent();
        assertFalse(await(answer));
    }

    private static void assertAnsweredAtOnce(boolean expected, CompletableFuture<Boolean> answer) {
        // The fake store holds every lookup until the test answers it, so a future that is already
        // done was answered from memory.
        assertTrue(answer.isDone(), "answered from memory, without waiting for the store");
        assertEquals(expected, answer.join());
    }

    /**
     * No lookup is waiting at the fake store, nor queued for it: a probe sent through the one-worker
     * {@link AsyncStore} after everything the test did is the first call to arrive.
     */
    private void assertStoreNotAsked(Topics topics) throws Exception {
        long counted = topics.storeLookups();
        CompletableFuture<Optional<Topic>> probe = store.findTopic(HeldStore.PROBE, HeldStore.PROBE);
        Lookup first = held.next();
        assertEquals(HeldStore.PROBE, first.audience(), "the store was asked for " + first);
        first.absent();
        assertEquals(Optional.empty(), probe.get(GUARD_SECONDS, TimeUnit.SECONDS));
        assertEquals(counted, topics.storeLookups());
    }

    private static boolean await(CompletableFuture<Boolean> answer)
            throws InterruptedException, ExecutionException, TimeoutException {
        return answer.get(GUARD_SECONDS, TimeUnit.SECONDS);
    }

    /** One findTopic call, blocked in the store until the test answers it. */
    private record Lookup(String audience, String topic, CompletableFuture<Optional<Topic>> answer) {
        void found() {
            answer.complete(Optional.of(new Topic(
                    UUID.randomUUID(),
                    topic,
                    UUID.randomUUID(),
                    audience,
                    Instant.EPOCH,
                    Instant.EPOCH,
                    HistorySettings.NONE)));
        }

        void absent() {
            answer.complete(Optional.empty());
        }

        void fail(RuntimeException error) {
            answer.completeExceptionally(error);
        }
    }

    /** A {@link Store} whose findTopic waits for the test's answer; Topics.resolve needs nothing else. */
    private static final class HeldStore implements Store {
        static final String PROBE = "probe";
        private final BlockingQueue<Lookup> arrived = new LinkedBlockingQueue<>();
        private final List<Lookup> all = new ArrayList<>();

        @Override
        public Optional<Topic> findTopic(String audience, String topic) {
            Lookup lookup = new Lookup(audience, topic, new CompletableFuture<>());
            synchronized (all) {
                all.add(lookup);
            }
            arrived.add(lookup);
            try {
                return lookup.answer().get(GUARD_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw (RuntimeException) e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (TimeoutException e) {
                throw new IllegalStateException("the test never answered " + lookup, e);
            }
        }

        /** The next lookup to reach the store, waiting for it. */
        Lookup next() throws InterruptedException {
            Lookup lookup = arrived.poll(GUARD_SECONDS, TimeUnit.SECONDS);
            assertNotNull(lookup, "expected a store lookup");
            return lookup;
        }

        void releaseAll() {
            synchronized (all) {
                all.forEach(Lookup::absent);
            }
        }

        @Override
        public Created<Audience> createAudience(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<Audience> findAudience(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Topic createTopic(String audience, String topic, HistorySettings history) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<Topic> listTopics(String audience) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<Topic> allTopics() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void close() {}
    }
}
