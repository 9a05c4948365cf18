package io.courier.bench;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.HdrHistogram.Histogram;

/**
 * One publishing phase of a fan-out run (the calibration or the measured run): connect the publishers,
 * start them, sample the timeline every second until the deliveries have drained, stop them, and sum
 * the phase up. One instance per phase; {@link #run} once. Main thread only; the publishers themselves
 * live on the publisher loop.
 */
final class PublishPhase {
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Publishers that have not all finished this long after the phase's duration have failed. */
    private static final long FINISH_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Outstanding bytes per subscriber at most while publishing unpaced; see {@link #lagMessages}. */
    static final long LAG_BYTES = 256 * 1024;
    /** How often the server's RSS is read during a phase. */
    static final long RSS_EVERY_MILLIS = 200;

    /** What every phase of a run shares: the subscribers that read per topic, and how to stall the slow ones. */
    record Rig(
            LoadOptions options,
            Deliveries deliveries,
            Connector connector,
            ServerMetrics serverMetrics,
            EventLoopGroup loop,
            Target target,
            String[] topics,
            long[] readingPerTopic,
            IntSupplier stallSlowSubscribers) {}

    /**
     * What sets this phase apart: its publishers are {@code firstId}, {@code firstId + 1}, ...; they offer
     * {@code rate} publishes/s in total (0: as fast as the bounds allow) for {@code seconds}.
     *
     * @param stallSlow whether the slow subscribers stop reading {@code --slow-after} seconds in
     * @param slowConsumerClosesBefore the server's count of slow-consumer closes before the phase, -1 if unknown
     */
    record Plan(
            String name, int firstId, double rate, int seconds, boolean stallSlow, double slowConsumerClosesBefore) {}

    private final Rig rig;
    private final LoadOptions options;
    private final Deliveries deliveries;
    private final Plan plan;
    private final PublisherHandler[] publishers;
    private final Channel[] channels;
    private final long durationNanos;
    private final Histogram all = new Histogram(3);
    private final Timeline timeline = new Timeline();
    private CpuSampler cpu;
    private CpuSampler.Snapshot cpuBefore;
    private long receivedBefore;
    private long expectedBefore;
    private long startNanos;
    private Drain drain;
    private SlowStall stall;
    private boolean publishersDone;
    // The previous sample, for this second's rates and latency.
    private long lastTickNanos;
    private long lastReceived;
    private long lastAcked;
    private Histogram interval;
    private long rssStartKib = -1;
    private long rssPeakKib = -1;
    private long lastRssNanos;

    PublishPhase(Rig rig, Plan plan) {
        this.rig = rig;
        this.options = rig.options();
        this.deliveries = rig.deliveries();
        this.plan = plan;
        this.publishers = new PublisherHandler[options.publishers()];
        this.channels = new Channel[options.publishers()];
        this.durationNanos = TimeUnit.SECONDS.toNanos(plan.seconds());
    }

    Summary.Phase run() throws Exception {
        connectPublishers();
        startPublishers();
        sampleUntilDrained();
        return summary(stopPublishers());
    }

    private void connectPublishers() throws InterruptedException {
        int p = publishers.length;
        long lagLimit = lagLimit(plan.rate(), options, rig.readingPerTopic());
        List<Promise<Void>> ready = new ArrayList<>();
        for (int i = 0; i < p; i++) {
            int[] mine = mineOf(i, p, rig.topics().length);
            String[] names = new String[mine.length];
            for (int j = 0; j < mine.length; j++) {
                names[j] = rig.topics()[mine[j]];
            }
            Promise<Void> up = ImmediateEventExecutor.INSTANCE.newPromise();
            Promise<PublisherHandler.Result> done = ImmediateEventExecutor.INSTANCE.newPromise();
            PublisherHandler publisher = new PublisherHandler(
                    rig.target().publisher(names),
                    up,
                    done,
                    deliveries,
                    plan.firstId() + i,
                    mine,
                    options.sizeBytes(),
                    options.window(),
                    plan.rate() / p,
                    lagLimit);
            publishers[i] = publisher;
            channels[i] = rig.connector()
                    .open(
                            rig.loop(),
                            rig.target().nextPath(),
                            up,
                            pipeline -> pipeline.addLast("publisher", publisher));
            ready.add(up);
        }
        for (Promise<Void> up : ready) {
            if (!up.await(15, TimeUnit.SECONDS) || !up.isSuccess()) {
                throw new IllegalStateException(
                        "publisher not connected: " + (up.cause() == null ? "timeout" : up.cause()));
            }
        }
    }

    /** Takes the baselines (what came before this phase is not part of it), then lets the publishers go. */
    private void startPublishers() {
        cpu = new CpuSampler(options.serverPid());
        cpuBefore = cpu.take();
        rssStartKib = cpu.serverRssKib();
        rssPeakKib = rssStartKib;
        receivedBefore = deliveries.received();
        expectedBefore = deliveries.expected();
        deliveries.intervalLatency(null);
        for (int i = 0; i < publishers.length; i++) {
            int[] mine = mineOf(i, publishers.length, rig.topics().length);
            long[] fanout = new long[mine.length];
            for (int j = 0; j < mine.length; j++) {
                fanout[j] = rig.readingPerTopic()[mine[j]];
            }
            publishers[i].start(fanout, durationNanos);
        }
        startNanos = System.nanoTime();
        drain = new Drain(startNanos, durationNanos, options.drainTimeoutSeconds(), receivedBefore);
        stall = new SlowStall(
                plan.stallSlow() ? startNanos + TimeUnit.SECONDS.toNanos(options.slowAfterSeconds()) : Long.MAX_VALUE,
                plan.slowConsumerClosesBefore());
        lastTickNanos = startNanos;
        lastReceived = receivedBefore;
    }

    /** Polls every millisecond: stalls the slow subscribers when due, samples once a second and once more at the end. */
    private void sampleUntilDrained() throws InterruptedException {
        long finishBy = startNanos + durationNanos + FINISH_NANOS;
        while (true) {
            long now = System.nanoTime();
            if (stall.due(now)) {
                int stalled = rig.stallSlowSubscribers().getAsInt();
                stall.stalled(stalled, System.nanoTime());
            }
            if (!publishersDone) {
                publishersDone =
                        Arrays.stream(publishers).allMatch(x -> x.done().isDone());
                if (now > finishBy) {
                    throw new IllegalStateException("publishers did not finish: no replies within 60 s of the end");
                }
            }
            if (now - lastRssNanos >= TimeUnit.MILLISECONDS.toNanos(RSS_EVERY_MILLIS)) {
                lastRssNanos = now;
                rssPeakKib = Math.max(rssPeakKib, cpu.serverRssKib());
            }
            long received = deliveries.received();
            boolean drained = drain.drained(publishersDone, received, deliveries.expected(), now);
            if (now - lastTickNanos >= SECOND_NANOS || drained) {
                sample(now, received);
            }
            if (drained) {
                return;
            }
            Thread.sleep(1);
        }
    }

    /** One point of the timeline and one progress line: the rates and latency since the previous sample. */
    private void sample(long now, long received) {
        if (stall.awaitingCuts()) {
            double closes = rig.serverMetrics().scrape().slowConsumerCloses();
            stall.closesSeen(closes, System.nanoTime());
        }
        double dt = (now - lastTickNanos) / 1e9;
        long acked =
                Arrays.stream(publishers).mapToLong(PublisherHandler::acked).sum();
        interval = deliveries.intervalLatency(interval);
        all.add(interval);
        stall.stage().add(interval);
        long open = options.subscribers() - deliveries.disconnectedEarly();
        timeline.add(
                (now - startNanos) / 1e9, (received - lastReceived) / dt, (acked - lastAcked) / dt, interval, open);
        Load.progress(
                "%s %3.0f s: %d open, %,.0f deliveries/s, %,.0f publishes/s, p99 %s (last second), p99 %s (so far)",
                plan.name(),
                (now - startNanos) / 1e9,
                open,
                (received - lastReceived) / dt,
                (acked - lastAcked) / dt,
                Load.millis(interval, 99),
                Load.millis(all, 99));
        lastTickNanos = now;
        lastReceived = received;
        lastAcked = acked;
    }

    /** Each publisher's own count of what it sent and had acknowledged, per topic: what the loss accounting compares against. */
    private List<PublisherHandler.Result> stopPublishers() {
        List<PublisherHandler.Result> results = new ArrayList<>();
        for (PublisherHandler publisher : publishers) {
            if (!publisher.done().isSuccess()) {
                throw new IllegalStateException(
                        "publisher failed: " + publisher.done().cause());
            }
            results.add(publisher.done().getNow());
        }
        for (Channel c : channels) {
            c.close();
        }
        return results;
    }

    private Summary.Phase summary(List<PublisherHandler.Result> results) {
        CpuSampler.Usage usage = cpu.take().since(cpuBefore);
        long rssEndKib = cpu.serverRssKib();
        Summary.Rss rss = rssStartKib < 0
                ? Summary.Rss.UNKNOWN
                : new Summary.Rss(rssStartKib, Math.max(rssPeakKib, rssEndKib), rssEndKib);
        long first = results.stream()
                .mapToLong(PublisherHandler.Result::firstPublishNanos)
                .min()
                .orElse(startNanos);
        long last = results.stream()
                .mapToLong(PublisherHandler.Result::lastPublishNanos)
                .max()
                .orElse(startNanos);
        double publishSeconds = (last - first) / 1e9;
        double drainSeconds = Math.max(0, (drain.lastChangeNanos() - last) / 1e9);
        return new Summary.Phase(
                plan.name(),
                plan.rate(),
                results,
                publishSeconds,
                drainSeconds,
                deliveries.expected() - expectedBefore,
                deliveries.received() - receivedBefore,
                all,
                usage,
                timeline.points(),
                stall.result(startNanos),
                rss);
    }

    /**
     * How many deliveries may be outstanding over all subscribers that read. A paced publisher offers its
     * load whatever happens (open loop); only an unpaced one is held back, by {@link #lagMessages} each.
     */
    static long lagLimit(double rate, LoadOptions options, long[] readingPerTopic) {
        if (rate > 0 || options.maxLagMessages() == 0) {
            return Long.MAX_VALUE;
        }
        return Math.max(1, Arrays.stream(readingPerTopic).sum()) * lagMessages(options);
    }

    /**
     * Messages each subscriber may have outstanding while publishers run unpaced: {@code --max-lag},
     * but never more than {@link #LAG_BYTES} of them, so that large messages do not pile up past the
     * server's slow-consumer bound (1 MiB by default) and measure disconnects instead of throughput.
     */
    static long lagMessages(LoadOptions options) {
        return Math.min(options.maxLagMessages(), Math.max(1, LAG_BYTES / options.sizeBytes()));
    }

    /** Publisher {@code p} of {@code publishers} takes the topics t with t mod publishers = p. */
    static int[] mineOf(int p, int publishers, int topics) {
        int[] mine = new int[(topics - p + publishers - 1) / publishers];
        for (int j = 0; j < mine.length; j++) {
            mine[j] = p + j * publishers;
        }
        return mine;
    }
}
