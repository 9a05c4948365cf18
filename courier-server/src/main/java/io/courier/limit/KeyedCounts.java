package io.courier.limit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many of something each key holds (connections per remote address, sockets per audience),
 * with a maximum checked and taken in one atomic step, so two event loops can never both take the
 * last slot.
 *
 * <p>The hazard is the map's size: keys come from clients, so an entry is removed as soon as its
 * count returns to zero. Removal races with a taker that has just read the entry; the remover first
 * marks the count {@link #RETIRED} (a CAS from 0), and a taker that finds a retired count helps
 * remove it and starts over with a fresh entry, so no slot is ever taken on an entry that has left
 * the map. Any thread; lock-free.
 *
 * @param <K> the key: an {@link java.net.InetAddress}, an audience name
 */
public final class KeyedCounts<K> {
    private static final int RETIRED = Integer.MIN_VALUE;

    private final ConcurrentHashMap<K, AtomicInteger> counts = new ConcurrentHashMap<>();

    /** Adds one to {@code key}'s count unless it holds {@code max} already; true when added. */
    public boolean tryAcquire(K key, int max) {
        while (true) {
            AtomicInteger count = counts.get(key);
            if (count == null) {
                AtomicInteger fresh = new AtomicInteger();
                count = counts.putIfAbsent(key, fresh);
                if (count == null) {
                    count = fresh;
                }
            }
            for (int n = count.get(); n != RETIRED; n = count.get()) {
                if (n >= max) {
                    return false;
                }
                if (count.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
            counts.remove(key, count);
        }
    }

    /** Gives back one taken by {@link #tryAcquire}; call exactly once for each success. */
    public void release(K key) {
        AtomicInteger count = counts.get(key);
        if (count == null) {
            throw new IllegalStateException("release of " + key + " (expected: a key acquired before)");
        }
        // Only the release that brings the count to zero may retire it, and only if no taker came in meanwhile.
        if (count.decrementAndGet() == 0 && count.compareAndSet(0, RETIRED)) {
            counts.remove(key, count);
        }
    }

    /** What {@code key} holds now; 0 when absent. */
    public int count(K key) {
        AtomicInteger count = counts.get(key);
        int n = count == null ? 0 : count.get();
        return Math.max(0, n);
    }

    /** Keys holding something (and, briefly, keys being removed). */
    public int size() {
        return counts.size();
    }
}
