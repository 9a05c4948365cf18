package io.courier.bench;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * A run second by second: throughput and the latency percentiles of that second alone, for the live
 * progress line, the JSON and the plots. Main thread only.
 */
final class Timeline {
    /**
     * One interval ending {@code seconds} after the publishing started; latencies in microseconds,
     * -1 when no delivery of the interval was sampled.
     */
    record Point(
            double seconds,
            double deliveriesPerSecond,
            double publishesPerSecond,
            long p50,
            long p90,
            long p99,
            long p999,
            long max,
            long samples,
            long open) {}

    private final List<Point> points = new ArrayList<>();

    void add(double seconds, double deliveriesPerSecond, double publishesPerSecond, Histogram interval, long open) {
        boolean any = interval.getTotalCount() > 0;
        points.add(new Point(
                seconds,
                deliveriesPerSecond,
                publishesPerSecond,
                any ? interval.getValueAtPercentile(50) : -1,
                any ? interval.getValueAtPercentile(90) : -1,
                any ? interval.getValueAtPercentile(99) : -1,
                any ? interval.getValueAtPercentile(99.9) : -1,
                any ? interval.getMaxValue() : -1,
                interval.getTotalCount(),
                open));
    }

    List<Point> points() {
        return List.copyOf(points);
    }
}
