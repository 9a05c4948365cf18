package io.courier.limit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket per audience: {@code perSecond} calls a second, bursts of up to one second's
 * worth. Kept as one number per audience, the time at which its bucket is full again (the
 * "theoretical arrival time" of the generic cell rate algorithm, ITU-T I.371): a call costs one
 * interval of 1/perSecond s and is refused when it would push that time more than a second past
 * now. One CAS per call, so hook calls of one audience on different event loops need no lock.
 *
 * <p>The hazard is the map's size, one entry per audience that ever called. An entry whose bucket is
 * full again behaves exactly like no entry, so {@link #sweep} drops those; it retires an entry with a
 * CAS to {@link #RETIRED} first, so a call racing with the sweep is never counted on a bucket that
 * has left the map. Any thread; lock-free.
 */
public final class AudienceRateLimit {
    /** Marks a bucket the sweep took out of the map (a nanoTime value of exactly this is not expected). */
    private static final long RETIRED = Long.MIN_VALUE;

    private final int perSecond;
    private final long intervalNanos;
    /** How far past now a bucket's full time may be: one second's worth of calls. */
    private final long burstNanos;

    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, AtomicLong> fullAt = new ConcurrentHashMap<>();

    /**
     * @param perSecond calls per second per audience; 0 turns the limit off
     * @param nanoClock {@link System#nanoTime} but in tests
     */
    public AudienceRateLimit(int perSecond, LongSupplier nanoClock) {
        if (perSecond < 0) {
            throw new IllegalArgumentException("perSecond: " + perSecond + " (expected: >= 0)");
        }
        this.perSecond = perSecond;
        this.intervalNanos = perSecond == 0 ? 0 : 1_000_000_000L / perSecond;
        // Whole intervals, so the burst is perSecond calls exactly, whatever the rounding above.
        this.burstNanos = intervalNanos * perSecond;
        this.nanoClock = nanoClock;
    }

    /** Takes one call from {@code audience}'s bucket; false when it is empty. */
    public boolean tryAcquire(String audience) {
        if (perSecond == 0) {
            return true;
        }
        long now = nanoClock.getAsLong();
        while (true) {
            AtomicLong bucket = fullAt.get(audience);
            if (bucket == null) {
                AtomicLong fresh = new AtomicLong(now);
                bucket = fullAt.putIfAbsent(audience, fresh);
                if (bucket == null) {
                    bucket = fresh;
                }
            }
            for (long full = bucket.get(); full != RETIRED; full = bucket.get()) {
                long next = (full - now > 0 ? full : now) + intervalNanos;
                if (next - now > burstNanos) {
                    return false;
                }
                if (bucket.compareAndSet(full, next)) {
                    return true;
                }
            }
            fullAt.remove(audience, bucket);
        }
    }

    /** Forgets audiences whose bucket is full again: nothing they did still counts. Any thread. */
    public void sweep() {
        long now = nanoClock.getAsLong();
        for (Map.Entry<String, AtomicLong> e : fullAt.entrySet()) {
            AtomicLong bucket = e.getValue();
            long full = bucket.get();
            if (full != RETIRED && full - now <= 0 && bucket.compareAndSet(full, RETIRED)) {
                fullAt.remove(e.getKey(), bucket);
            }
        }
    }

    /** Audiences with a bucket held. */
    public int size() {
        return fullAt.size();
    }
}
