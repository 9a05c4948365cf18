package io.courier.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KeyedCountsTest {

    @Test
    void acquiresUpToTheMaximumPerKey() {
        KeyedCounts<String> counts = new KeyedCounts<>();
        assertTrue(counts.tryAcquire("a", 2));
        assertTrue(counts.tryAcquire("a", 2));
        assertFalse(counts.tryAcquire("a", 2), "a third over a maximum of 2");
        assertTrue(counts.tryAcquire("b", 2), "keys are counted apart");
        assertEquals(2, counts.count("a"));
    }

    @Test
    void releaseFreesASlot() {
        KeyedCounts<String> counts = new KeyedCounts<>();
        counts.tryAcquire("a", 1);
        assertFalse(counts.tryAcquire("a", 1));
        counts.release("a");
        assertTrue(counts.tryAcquire("a", 1));
    }

    @Test
    void keyIsForgottenWhenItsCountReturnsToZero() {
        KeyedCounts<String> counts = new KeyedCounts<>();
        for (int i = 0; i < 1_000; i++) {
            counts.tryAcquire("k" + i, 5);
            counts.tryAcquire("k" + i, 5);
        }
        assertEquals(1_000, counts.size());
        for (int i = 0; i < 1_000; i++) {
            counts.release("k" + i);
            counts.release("k" + i);
        }
        assertEquals(0, counts.size(), "no entry left behind");
        assertEquals(0, counts.count("k0"));
    }

    /**
     * Threads race on one key through acquire and release, so entries keep being removed at zero
     * and re-created: the maximum is never exceeded, and nothing is left behind.
     */
    @Test
    void racingThreadsNeverExceedTheMaximumAndLeaveNothingBehind() throws Exception {
        KeyedCounts<String> counts = new KeyedCounts<>();
        int threads = 4;
        int max = 2;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        AtomicInteger acquired = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    for (int i = 0; i < 50_000; i++) {
                        if (counts.tryAcquire("hot", max)) {
                            acquired.incrementAndGet();
                            mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            inside.decrementAndGet();
                            counts.release("hot");
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(acquired.get() > 0);
        assertTrue(mostInside.get() <= max, "at most " + max + " held at once, saw " + mostInside.get());
        assertEquals(0, counts.size(), "the key is gone once every holder released");
    }
}
