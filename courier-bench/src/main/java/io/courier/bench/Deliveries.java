package io.courier.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the subscribers that keep reading saw, summed over all of them: deliveries, sampled latencies
 * and how connections ended, plus what the publishers expect them to see. Any thread; subscribers add
 * once per read, not once per frame. Latencies go to a {@link Recorder}, which the run empties once a
 * second into its timeline without stopping the writers.
 */
final class Deliveries {
    private final long epochNanos = System.nanoTime();
    private final LongAdder received = new LongAdder();
    private final LongAdder expected = new LongAdder();
    private final LongAdder disconnected = new LongAdder();
    private final ConcurrentHashMap<Integer, LongAdder> closeCodes = new ConcurrentHashMap<>();
    /** Microseconds from a publish's intended time to a subscriber's read; auto-resizing, 3 significant digits. */
    private final Recorder latencyMicros = new Recorder(3);

    private final AtomicLong firstArrivalNanos = new AtomicLong();
    private final AtomicLong lastArrivalNanos = new AtomicLong();
    private final int sampleEvery;
    private volatile boolean probing;
    private volatile boolean closing;

    Deliveries(int sampleEvery) {
        this.sampleEvery = sampleEvery;
    }

    int sampleEvery() {
        return sampleEvery;
    }

    /** The clock of {@link Publication}'s {@code t}: microseconds since this object was made. */
    long nowMicros() {
        return (System.nanoTime() - epochNanos) / 1000;
    }

    long toMicros(long nanoTime) {
        return (nanoTime - epochNanos) / 1000;
    }

    void add(long frames) {
        received.add(frames);
    }

    long received() {
        return received.sum();
    }

    /** A publisher wrote a message that this many subscribers that keep reading should get. */
    void expect(long subscribers) {
        expected.add(subscribers);
    }

    long expected() {
        return expected.sum();
    }

    void recordLatencyMicros(long micros) {
        latencyMicros.recordValue(Math.max(0, micros));
    }

    /** The latencies recorded since the last call; {@code recycle} may be the histogram the last call returned. */
    Histogram intervalLatency(Histogram recycle) {
        return latencyMicros.getIntervalHistogram(recycle);
    }

    /** From now on, remember the first and the latest time a delivery arrived. */
    void startProbe() {
        firstArrivalNanos.set(Long.MAX_VALUE);
        lastArrivalNanos.set(0);
        probing = true;
    }

    void stopProbe() {
        probing = false;
    }

    void arrived() {
        if (probing) {
            long now = System.nanoTime();
            lastArrivalNanos.accumulateAndGet(now, Math::max);
            firstArrivalNanos.accumulateAndGet(now, Math::min);
        }
    }

    long firstArrivalNanos() {
        return firstArrivalNanos.get();
    }

    long lastArrivalNanos() {
        return lastArrivalNanos.get();
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
