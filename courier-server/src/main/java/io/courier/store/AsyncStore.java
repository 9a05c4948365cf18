package io.courier.store;

import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The {@link Store} for event-loop callers: every call runs on a bounded pool of worker threads and
 * completes a future, so no JDBC ever runs on a Netty thread. When the queue is full the call fails
 * at once with EUNAVAILABLE instead of piling up work behind a slow database.
 *
 * <p>Futures complete on a worker thread; callers writing to a channel may do so from there
 * (Netty hands the write to the channel's event loop).
 */
public final class AsyncStore implements AutoCloseable {
    private final Store store;
    private final ThreadPoolExecutor workers;

    public AsyncStore(Store store, int threads, int queue) {
        this.store = store;
        AtomicInteger n = new AtomicInteger();
        this.workers =
                new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue), r -> {
                    Thread t = new Thread(r, "courier-store-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.workers.allowCoreThreadTimeOut(true);
    }

    public CompletableFuture<Created<Audience>> createAudience(String name) {
        return supply(() -> store.createAudience(name));
    }

    public CompletableFuture<Optional<Audience>> findAudience(String name) {
        return supply(() -> store.findAudience(name));
    }

    public CompletableFuture<Topic> createTopic(String audience, String topic, HistorySettings history) {
        return supply(() -> store.createTopic(audience, topic, history));
    }

    public CompletableFuture<List<Topic>> listTopics(String audience) {
        return supply(() -> store.listTopics(audience));
    }

    public CompletableFuture<Optional<Topic>> findTopic(String audience, String topic) {
        return supply(() -> store.findTopic(audience, topic));
    }

    public CompletableFuture<List<Topic>> allTopics() {
        return supply(store::allTopics);
    }

    public CompletableFuture<Boolean> isReady() {
        return supply(store::isReady);
    }

    private <T> CompletableFuture<T> supply(Supplier<T> call) {
        try {
            return CompletableFuture.supplyAsync(call, workers);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(
                    new CourierException(ErrorCode.EUNAVAILABLE, "server busy, retry later"));
        }
    }

    /** Stops taking work, lets queued calls finish for a moment, then closes the store. */
    @Override
    public void close() {
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }
}
