package io.courier.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What every subscriber saw, summed over all of them: deliveries, sampled latencies and how
 * connections ended. Any thread; subscribers add once per read, not once per frame.
 */
final class Deliveries {
    private final LongAdder received = new LongAdder();
    private final LongAdder disconnected = new LongAdder();
    private final ConcurrentHashMap<Integer, LongAdder> closeCodes = new ConcurrentHashMap<>();
    /** Microseconds from the publisher's write to a subscriber's read; auto-resizing, 3 significant digits. */
    private final Histogram latencyMicros = new ConcurrentHistogram(3);
    private final int sampleEvery;
    private volatile boolean closing;

    Deliveries(int sampleEvery) {
        this.sampleEvery = sampleEvery;
    }

    int sampleEvery() {
        return sampleEvery;
    }

    void add(long frames) {
        received.add(frames);
    }

    long received() {
        return received.sum();
    }

    void recordLatencyNanos(long nanos) {
        latencyMicros.recordValue(Math.max(0, nanos / 1000));
    }

    Histogram latencyMicros() {
        return latencyMicros;
    }

    void closeFrame(int code) {
        closeCodes.computeIfAbsent(code, c -> new LongAdder()).increment();
    }

    /** Close codes the server sent, with how many connections got each. */
    Map<Integer, Long> closeCodes() {
        Map<Integer, Long> codes = new TreeMap<>();
        closeCodes.forEach((code, n) -> codes.put(code, n.sum()));
        return codes;
    }

    void disconnected() {
        if (!closing) {
            disconnected.increment();
        }
    }

    /** Connections that ended before the run closed them. */
    long disconnectedEarly() {
        return disconnected.sum();
    }

    /** From now on, connections end because the run is over. */
    void closing() {
        closing = true;
    }
}
