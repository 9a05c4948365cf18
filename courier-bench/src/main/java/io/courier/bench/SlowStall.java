package io.courier.bench;

import org.HdrHistogram.Histogram;

/**
 * The slow subscribers' part of a publishing phase: when they stop reading, when the server cuts them
 * off, and the latency of the subscribers that read, split into before the stall, while the stalled
 * ones are still connected, and after the last of them was cut off. Main thread only.
 */
final class SlowStall {
    private final long stallAtNanos;
    /** The server's slow-consumer closes before the phase; -1 if unknown, then no cut-off is watched. */
    private final double closesBefore;

    private final Histogram beforeStall = new Histogram(3);
    private final Histogram whileStalled = new Histogram(3);
    private final Histogram afterCut = new Histogram(3);
    private long stalledAtNanos;
    private int stalled;
    private double cut;
    private double firstCutSeconds = -1;
    private double lastCutSeconds = -1;

    /** {@code stallAtNanos}: Long.MAX_VALUE for a phase in which nobody stalls. */
    SlowStall(long stallAtNanos, double closesBefore) {
        this.stallAtNanos = stallAtNanos;
        this.closesBefore = closesBefore;
    }

    boolean due(long nowNanos) {
        return stalledAtNanos == 0 && nowNanos >= stallAtNanos;
    }

    void stalled(int count, long atNanos) {
        this.stalled = count;
        this.stalledAtNanos = atNanos;
    }

    /**
     * Whether the server's count of slow-consumer closes is worth a scrape: a stalled client cannot see
     * its own cut-off (it reads nothing, not even the close frame), so that count tells when it happened.
     */
    boolean awaitingCuts() {
        return stalledAtNanos != 0 && closesBefore >= 0 && cut < stalled;
    }

    /** The server's count of slow-consumer closes as scraped at {@code nowNanos}; -1 (a failed scrape) is ignored. */
    void closesSeen(double closes, long nowNanos) {
        if (closes >= 0 && closes - closesBefore > cut) {
            double since = (nowNanos - stalledAtNanos) / 1e9;
            firstCutSeconds = firstCutSeconds < 0 ? since : firstCutSeconds;
            lastCutSeconds = since;
            cut = closes - closesBefore;
        }
    }

    /** Where this second's latency belongs. */
    Histogram stage() {
        return stalledAtNanos == 0 ? beforeStall : cut < stalled ? whileStalled : afterCut;
    }

    /** The stall for the summary, null if nobody stalled. */
    Summary.Stall result(long phaseStartNanos) {
        if (stalledAtNanos == 0) {
            return null;
        }
        return new Summary.Stall(
                stalledAtNanos,
                (stalledAtNanos - phaseStartNanos) / 1e9,
                stalled,
                (long) cut,
                firstCutSeconds,
                lastCutSeconds,
                beforeStall,
                whileStalled,
                afterCut);
    }
}
