package io.courier.bench;

import java.util.concurrent.TimeUnit;

/**
 * When a publishing phase is over: once its publishers are done, when every expected delivery has
 * arrived, when none has arrived for {@link #STALL_NANOS}, or at {@code --drain-timeout} past the
 * phase's duration, whichever comes first. Main thread only.
 */
final class Drain {
    /** A drain that makes no progress for this long is over: whatever is missing is lost. */
    static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final long giveUpAtNanos;
    private long lastSeen;
    private long lastChangeNanos;

    /** Starts at {@code startNanos} with {@code receivedBefore} deliveries already counted by earlier phases. */
    Drain(long startNanos, long durationNanos, int drainTimeoutSeconds, long receivedBefore) {
        this.giveUpAtNanos = startNanos + durationNanos + TimeUnit.SECONDS.toNanos(drainTimeoutSeconds);
        this.lastSeen = receivedBefore;
        this.lastChangeNanos = startNanos;
    }

    /** Notes {@code received} as seen at {@code nowNanos}, even while the publishers run, and says whether the phase is over. */
    boolean drained(boolean publishersDone, long received, long expected, long nowNanos) {
        if (received != lastSeen) {
            lastSeen = received;
            lastChangeNanos = nowNanos;
        }
        return publishersDone
                && (received >= expected || nowNanos - lastChangeNanos >= STALL_NANOS || nowNanos >= giveUpAtNanos);
    }

    /** When the count of deliveries last moved: the end of the drain. */
    long lastChangeNanos() {
        return lastChangeNanos;
    }
}
