package io.courier.bench;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Load generator for a running Courier.
 * <pre>
 *   java -jar courier-bench.jar --url http://127.0.0.1:PORT --secret S --scenario fanout --subscribers 1000
 *   java -jar courier-bench.jar --url http://127.0.0.1:PORT --secret S --scenario connections --subscribers 10000
 * </pre>
 * {@code fanout}: N subscribers split over T topics, then P publishers for the duration (optionally
 * after a calibration at full speed, with some subscribers that stop reading, followed by single
 * timed probes); reports deliveries/s, latency percentiles, loss per publisher sequence, and the
 * server's own counts from /metrics. {@code connections}: N idle sockets held open for the duration
 * (the caller measures the server's memory meanwhile); it prints {@code holding N connections} once
 * they are all open. Exit codes: 0 done, 2 bad flags, 1 the run failed. See {@link LoadOptions#USAGE}.
 */
public final class Load {
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A probe gives up as a drain does: not read by every subscriber within this long, it is incomplete. */
    private static final long STALL_NANOS = Drain.STALL_NANOS;

    private static final long PROBE_GAP_MILLIS = 100;

    private final LoadOptions options;
    private final ClientTransport transport = ClientTransport.detect();
    private final Deliveries deliveries;
    private final Connector connector;
    /** One per {@code --subscriber-urls} entry; subscriber i uses entry i mod n. */
    private final Connector[] subscriberConnectors;

    private final ServerMetrics serverMetrics;
    private final DeliveryDecoder[] subscribers;
    private final Channel[] channels;
    /** Publisher ids: the calibration's, the measured run's, then the probe's. */
    private final int publisherIds;

    private long closingNanos = Long.MAX_VALUE;

    private Load(LoadOptions options) {
        this.options = options;
        this.deliveries = new Deliveries(options.sampleEvery());
        this.connector = new Connector(transport, options.url());
        this.subscriberConnectors = options.subscriberUrls().stream()
                .map(u -> u.equals(options.url()) ? connector : new Connector(transport, u))
                .toArray(Connector[]::new);
        this.serverMetrics = new ServerMetrics(options.url(), options.metricsToken());
        this.subscribers = new DeliveryDecoder[options.subscribers()];
        this.channels = new Channel[options.subscribers()];
        this.publisherIds =
                options.publishers() * (options.calibrateSeconds() > 0 ? 2 : 1) + (options.probes() > 0 ? 1 : 0);
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(LoadOptions.USAGE);
            return;
        }
        LoadOptions options;
        try {
            options = LoadOptions.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("courier-bench: " + e.getMessage());
            System.err.println(LoadOptions.USAGE);
            System.exit(2);
            return;
        }
        try {
            Summary summary = new Load(options).run();
            summary.print(System.out);
            if (options.json().isPresent()) {
                summary.writeJson(options.json().get());
                System.out.println("json:        " + options.json().get());
                summary.writePlot(options.json().get()).ifPresent(svg -> System.out.println("plot:        " + svg));
            }
            System.exit(0);
        } catch (Exception e) {
            System.err.println("courier-bench: run failed: " + e);
            System.exit(1);
        }
    }

    private Summary run() throws Exception {
        Instant startedAt = Instant.now();
        boolean fanout = options.scenario().equals("fanout");
        CourierApi api = new CourierApi(options.url(), options.bearer());
        api.createAudience();
        String[] topics = new String[fanout ? options.topics() : 0];
        for (int t = 0; t < topics.length; t++) {
            topics[t] = "bench/" + t;
            api.createTopic(topics[t], options.historySize());
        }
        SignedKeys keys = new SignedKeys(api);
        EventLoopGroup subscriberLoops = transport.newGroup(options.threads(), "bench-sub");
        // Publishers get a loop of their own so that their pacing does not queue behind subscriber reads.
        EventLoopGroup publisherLoop = transport.newGroup(1, "bench-pub");
        Summary.Opened opened;
        ServerMetrics.Snapshot metricsBefore;
        ServerMetrics.Snapshot metricsAfter;
        Summary.Phase calibration = null;
        Summary.Phase measured = null;
        Summary.Probes probes = null;
        double held = 0;
        List<PublisherHandler.Result> results = new ArrayList<>();
        long[] probeAcked = {0};
        Summary.Hooks hookCalls = null;
        try {
            opened = openAll(subscriberLoops, keys, topics);
            metricsBefore = serverMetrics.scrape();
            if (fanout) {
                long[] readingPerTopic = readingPerTopic(topics.length);
                PublishPhase.Rig rig = new PublishPhase.Rig(
                        options,
                        deliveries,
                        connector,
                        serverMetrics,
                        publisherLoop,
                        keys,
                        topics,
                        readingPerTopic,
                        this::stallSlowSubscribers);
                double rate = options.rate();
                int firstId = 0;
                if (options.calibrateSeconds() > 0) {
                    PublishPhase.Plan plan =
                            new PublishPhase.Plan("calibrating", firstId, 0, options.calibrateSeconds(), false, -1);
                    calibration = new PublishPhase(rig, plan).run();
                    results.addAll(calibration.results());
                    rate = Math.max(1, calibration.publishesPerSecond() * options.loadPercent() / 100.0);
                    progress(
                            "calibrated: %.0f publishes/s at most; measuring at %d%% = %.0f publishes/s",
                            calibration.publishesPerSecond(), options.loadPercent(), rate);
                    firstId += options.publishers();
                }
                HookTraffic hooks = options.hookRate() > 0
                        ? new HookTraffic(api, options.hookRate(), options.durationSeconds())
                        : null;
                if (hooks != null) {
                    hooks.start();
                }
                measured = new PublishPhase(
                                rig,
                                new PublishPhase.Plan(
                                        "publishing",
                                        firstId,
                                        rate,
                                        options.durationSeconds(),
                                        options.slowPercent() > 0,
                                        metricsBefore.slowConsumerCloses()))
                        .run();
                if (hooks != null) {
                    hooks.join();
                    hookCalls = new Summary.Hooks(hooks.due(), hooks.acked(), hooks.failed());
                    Thread.sleep(1000); // the last broadcast's deliveries
                }
                results.addAll(measured.results());
                if (options.probes() > 0) {
                    probes = probe(publisherLoop, keys, topics, readingPerTopic[0], publisherIds - 1, probeAcked);
                }
            } else {
                held = hold(opened);
            }
            metricsAfter = serverMetrics.scrape();
        } finally {
            closingNanos = System.nanoTime();
            deliveries.closing();
            subscriberLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            publisherLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            subscriberLoops.terminationFuture().awaitUninterruptibly(30, TimeUnit.SECONDS);
            publisherLoop.terminationFuture().awaitUninterruptibly(30, TimeUnit.SECONDS);
        }
        // The loops have stopped: every subscriber's own counts are final and visible here.
        Summary.Accounting accounting = fanout
                ? account(topics.length, results, probeAcked[0], measured, hookCalls == null ? 0 : hookCalls.acked())
                : null;
        return new Summary(
                options,
                transport.name(),
                startedAt,
                opened,
                calibration,
                measured,
                probes,
                hookCalls,
                accounting,
                held,
                opened.connected() - deliveries.disconnectedEarly(),
                deliveries.disconnectedEarly(),
                deliveries.closeCodes(),
                metricsBefore,
                metricsAfter);
    }

    /** Opens the subscribers with at most {@code --handshakes} in flight; subscribed (when given topics) before they count. */
    private Summary.Opened openAll(EventLoopGroup loops, SignedKeys keys, String[] topics) throws InterruptedException {
        int n = options.subscribers();
        CpuSampler cpu = new CpuSampler(options.serverPid());
        CpuSampler.Snapshot before = cpu.take();
        Semaphore handshakes = new Semaphore(options.maxHandshakes());
        AtomicInteger connected = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        boolean[] ready = new boolean[n];
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(options.connectTimeoutSeconds());
        long nextProgress = start + SECOND_NANOS;
        boolean loopbackServer = options.subscriberUrls().stream().allMatch(u -> isLoopback(u.getHost()));
        int sources = 1;
        int launched = 0;
        for (; launched < n; launched++) {
            if (!handshakes.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                break;
            }
            int index = launched;
            int topicIndex = topics.length == 0 ? 0 : index % topics.length;
            String topic = topics.length == 0 ? null : topics[topicIndex];
            boolean slow = options.isSlow(index);
            InetSocketAddress source = sourceAddress(index, n, options.perSourceAddress(), loopbackServer);
            if (source != null) {
                sources = Math.max(sources, index / options.perSourceAddress() + 1);
            }
            Promise<Void> opened = ImmediateEventExecutor.INSTANCE.newPromise();
            opened.addListener(f -> {
                if (f.isSuccess()) {
                    ready[index] = true;
                    connected.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    firstError.compareAndSet(null, String.valueOf(f.cause()));
                }
                handshakes.release();
            });
            DeliveryDecoder decoder =
                    new DeliveryDecoder(deliveries, topic, topicIndex, slow, Math.max(1, publisherIds), opened);
            subscribers[index] = decoder;
            channels[index] = subscriberConnectors[options.subscriberServer(index)].open(
                    loops,
                    keys.next(),
                    source,
                    slow ? options.slowReceiveBufferBytes() : 0,
                    opened,
                    p -> p.replace("ws-decoder", "deliveries", decoder));
            if (System.nanoTime() >= nextProgress) {
                nextProgress += SECOND_NANOS;
                progress("opening: %d ready, %d failed, %d started", connected.get(), failed.get(), launched + 1);
            }
        }
        while (connected.get() + failed.get() < launched && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // A subscriber that never became ready takes no part in the accounting.
        for (int i = 0; i < n; i++) {
            if (!ready[i]) {
                subscribers[i] = null;
            }
        }
        int missing = n - connected.get() - failed.get();
        if (missing > 0) {
            firstError.compareAndSet(
                    null, missing + " not ready within --connect-timeout " + options.connectTimeoutSeconds() + " s");
        }
        progress("opened %d of %d in %.2f s from %d source address(es)", connected.get(), n, seconds, sources);
        return new Summary.Opened(
                n,
                connected.get(),
                n - connected.get(),
                seconds,
                sources,
                firstError.get(),
                cpu.take().since(before));
    }

    /**
     * The local address for client socket {@code index} of {@code total}: null (the kernel's choice) while
     * one source address has ports enough, else 127.0.0.1, 127.0.0.2, ... in blocks of {@code perSource}.
     * Only for a loopback server, where all of 127.0.0.0/8 reaches it.
     */
    static InetSocketAddress sourceAddress(int index, int total, int perSource, boolean loopbackServer) {
        if (total <= perSource || !loopbackServer) {
            return null;
        }
        int block = index / perSource;
        if (block > 253) {
            throw new IllegalArgumentException(
                    "--per-source: " + perSource + " leaves " + total + " sockets more than 254 source addresses");
        }
        return new InetSocketAddress("127.0.0." + (block + 1), 0);
    }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private long[] readingPerTopic(int topics) {
        long[] perTopic = new long[topics];
        for (DeliveryDecoder s : subscribers) {
            if (s != null && !s.slow()) {
                perTopic[s.topicIndex()]++;
            }
        }
        return perTopic;
    }

    /** Stops reading on every slow subscriber; returns how many. */
    private int stallSlowSubscribers() {
        int n = 0;
        for (int i = 0; i < channels.length; i++) {
            DeliveryDecoder subscriber = subscribers[i];
            if (subscriber != null && subscriber.slow()) {
                Channel channel = channels[i];
                channel.eventLoop().execute(() -> {
                    ChannelHandlerContext ctx = channel.pipeline().context(subscriber);
                    if (ctx != null) {
                        subscriber.stall(ctx);
                    }
                });
                n++;
            }
        }
        progress("stalled %d slow subscribers: they stop reading now", n);
        return n;
    }

    /**
     * Single publishes to topic 0, one at a time: for each, the time from its write until the last of
     * the topic's subscribers had read it. The machine is otherwise idle, so this is fan-out latency
     * without queueing.
     */
    private Summary.Probes probe(
            EventLoopGroup loop, SignedKeys keys, String[] topics, long subscribersOfTopic0, int id, long[] acked)
            throws Exception {
        Promise<Void> up = ImmediateEventExecutor.INSTANCE.newPromise();
        PublisherHandler publisher = new PublisherHandler(
                up,
                ImmediateEventExecutor.INSTANCE.newPromise(),
                deliveries,
                id,
                new int[] {0},
                new String[] {topics[0]},
                options.sizeBytes(),
                1,
                0,
                Long.MAX_VALUE);
        Channel channel = connector.open(loop, keys.next(), up, pipeline -> pipeline.addLast("publisher", publisher));
        if (!up.await(15, TimeUnit.SECONDS) || !up.isSuccess()) {
            throw new IllegalStateException(
                    "probe publisher not connected: " + (up.cause() == null ? "timeout" : up.cause()));
        }
        Histogram firstMicros = new Histogram(3);
        Histogram lastMicros = new Histogram(3);
        int incomplete = 0;
        for (int k = 0; k < options.probes(); k++) {
            Thread.sleep(PROBE_GAP_MILLIS);
            long target = deliveries.expected() + subscribersOfTopic0;
            deliveries.startProbe();
            long sentNanos = publisher.sendOne(subscribersOfTopic0).get(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + STALL_NANOS;
            while (deliveries.received() < target && System.nanoTime() < deadline) {
                Thread.sleep(0, 100_000);
            }
            deliveries.stopProbe();
            if (deliveries.received() < target) {
                incomplete++;
                continue;
            }
            firstMicros.recordValue(Math.max(0, (deliveries.firstArrivalNanos() - sentNanos) / 1000));
            lastMicros.recordValue(Math.max(0, (deliveries.lastArrivalNanos() - sentNanos) / 1000));
        }
        long deadline = System.nanoTime() + STALL_NANOS;
        while (publisher.acked() < options.probes() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        acked[0] = publisher.acked();
        channel.close();
        progress(
                "probes: %d single publishes to %d subscribers, first subscriber reached after p50 %s, last after p50 %s, max %s",
                options.probes(),
                subscribersOfTopic0,
                millis(firstMicros, 50),
                millis(lastMicros, 50),
                millis(lastMicros, 100));
        return new Summary.Probes(options.probes(), subscribersOfTopic0, firstMicros, lastMicros, incomplete);
    }

    /**
     * Compares what each subscriber counted per publisher with what that publisher had acknowledged
     * to its topic: loss and duplicates per subscriber, not only in total.
     */
    private Summary.Accounting account(
            int topics,
            List<PublisherHandler.Result> results,
            long probeAcked,
            Summary.Phase measured,
            long hooksAcked) {
        long[][] ackedTo = new long[publisherIds][topics];
        for (PublisherHandler.Result r : results) {
            for (int j = 0; j < r.topics().length; j++) {
                ackedTo[r.publisher()][r.topics()[j]] += r.ackedPerTopic()[j];
            }
        }
        if (options.probes() > 0) {
            ackedTo[publisherIds - 1][0] += probeAcked;
        }
        long checked = 0;
        long missing = 0;
        long extra = 0;
        long outOfSequence = 0;
        long unreadable = 0;
        long closedEarly = 0;
        long slow = 0;
        long broadcastsMissing = 0;
        long broadcastsExtra = 0;
        for (DeliveryDecoder s : subscribers) {
            if (s == null) {
                continue;
            }
            outOfSequence += s.outOfSequence();
            unreadable += s.unreadable();
            boolean ended = s.closedAtNanos() != 0 && s.closedAtNanos() < closingNanos;
            if (s.slow()) {
                slow++; // what it missed after it stopped reading is the slow-consumer policy at work, not loss
                continue;
            }
            if (ended) {
                closedEarly++;
                continue;
            }
            checked++;
            broadcastsMissing += Math.max(0, hooksAcked - s.broadcasts());
            broadcastsExtra += Math.max(0, s.broadcasts() - hooksAcked);
            for (int p = 0; p < publisherIds; p++) {
                long expected = ackedTo[p][s.topicIndex()];
                long got = s.fromPublisher(p);
                missing += Math.max(0, expected - got);
                extra += Math.max(0, got - expected);
            }
        }
        return new Summary.Accounting(
                checked,
                missing,
                extra,
                outOfSequence,
                unreadable,
                closedEarly,
                slow,
                broadcastsMissing,
                broadcastsExtra);
    }

    /** Keeps the idle connections open for the duration; returns how long they were held. */
    private double hold(Summary.Opened opened) throws InterruptedException {
        // Scripts wait for this exact line before they measure the server.
        System.out.printf("holding %d connections for %d s%n", opened.connected(), options.durationSeconds());
        System.out.flush();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(options.durationSeconds());
        long nextProgress = start + SECOND_NANOS * 5;
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(100, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
            if (System.nanoTime() >= nextProgress) {
                nextProgress += SECOND_NANOS * 5;
                progress("holding: %d open", opened.connected() - deliveries.disconnectedEarly());
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    static String millis(Histogram h, double percentile) {
        if (h == null || h.getTotalCount() == 0) {
            return "n/a";
        }
        long micros = percentile >= 100 ? h.getMaxValue() : h.getValueAtPercentile(percentile);
        return String.format(Locale.ROOT, "%.2f ms", micros / 1000.0);
    }

    static void progress(String format, Object... args) {
        System.out.printf(Locale.ROOT, "... " + format + "%n", args);
        System.out.flush();
    }
}
