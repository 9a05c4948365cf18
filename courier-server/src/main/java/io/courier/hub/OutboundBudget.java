package io.courier.hub;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The server-wide budget for outbound bytes queued in the connections' outbound buffers
 * ({@code courier.ws.outbound.max.bytes}). Each event loop measures its own connections in its
 * {@link Backlog}; this holds what they share: the limits, and the sum of their last readings.
 *
 * <p>Why per loop: a connection's unsent bytes change on its own loop only, and a global counter
 * updated per delivery would cost every delivery a contended atomic. Each loop instead publishes
 * its sum (one volatile write per reading) and reads the others' (one volatile read per loop), so
 * a reading costs O(loops) plus a walk of the loop's own connections that hold unsent bytes.
 *
 * <p>Policy, applied by every loop on its own connections: over {@link #maxBytes}, the fan-out stops
 * draining (latency: publishes queue and publishers are slowed down by the fan-out's own limit);
 * still over it after {@link #GRACE_NANOS}, the connections with the most unsent bytes are cut off
 * until what the others hold is under {@link #lowWaterBytes}; drains resume once the whole total,
 * cut-off connections included (their bytes leave with their sockets), is under it too.
 */
final class OutboundBudget {
    /**
     * How often each loop reads its connections. Between readings a loop's drain counts what it
     * writes and reads again early when that would pass its share of the room left, so the period
     * only sets how soon a drain resumes and how precisely the grace is kept.
     */
    static final long SAMPLE_MILLIS = 20;
    /** The same grace as the per-connection slow-consumer rule (SessionHandler): 500 ms. */
    static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    final long maxBytes;
    /** Cut-offs stop, and drains resume, under this: three quarters of the budget. */
    final long lowWaterBytes;

    private Backlog[] backlogs = new Backlog[0];

    /** @param maxBytes {@link Long#MAX_VALUE} for no budget: nothing is measured then */
    OutboundBudget(long maxBytes) {
        this.maxBytes = maxBytes;
        this.lowWaterBytes = maxBytes - maxBytes / 4;
    }

    boolean enabled() {
        return maxBytes != Long.MAX_VALUE;
    }

    /** Called once by the hub before any loop reads. */
    void loops(Backlog[] backlogs) {
        this.backlogs = backlogs;
    }

    int loopCount() {
        return backlogs.length;
    }

    /** Unsent bytes of every connection at each loop's last reading, cut-off ones included. Any thread. */
    long queuedBytes() {
        long sum = 0;
        for (Backlog b : backlogs) {
            sum += b.queuedBytes;
        }
        return sum;
    }

    /** What every loop but {@code self} may hold before its next reading ({@link Backlog#reservedBytes}). Any thread. */
    long reservedBytesExcept(Backlog self) {
        long sum = 0;
        for (Backlog b : backlogs) {
            if (b != self) {
                sum += b.reservedBytes;
            }
        }
        return sum;
    }

    /** The part of {@link #queuedBytes} held by connections already cut off and closing. Any thread. */
    long closingBytes() {
        long sum = 0;
        for (Backlog b : backlogs) {
            sum += b.closingBytes;
        }
        return sum;
    }

    /**
     * Which connections to cut off: the fewest whose unsent bytes add up to at least
     * {@code bytesToFree}, the largest first. Connections with nothing unsent are never chosen.
     *
     * @param unsentBytes each candidate's unsent bytes; only the first {@code count} are read
     * @return indices into {@code unsentBytes}, largest first (empty when {@code bytesToFree <= 0})
     */
    static int[] slowestFirst(long[] unsentBytes, int count, long bytesToFree) {
        if (bytesToFree <= 0) {
            return new int[0];
        }
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(unsentBytes[b], unsentBytes[a]));
        int[] chosen = new int[count];
        int n = 0;
        long freed = 0;
        for (int i = 0; i < count && freed < bytesToFree && unsentBytes[order[i]] > 0; i++) {
            chosen[n++] = order[i];
            freed += unsentBytes[order[i]];
        }
        return Arrays.copyOf(chosen, n);
    }
}
