package io.courier.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.time.Instant;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Load generator for a running Courier.
 * <pre>
 *   java -jar courier-bench.jar --url http://127.0.0.1:PORT --secret S --scenario fanout --subscribers 1000
 *   java -jar courier-bench.jar --url http://127.0.0.1:PORT --secret S --scenario connections --subscribers 10000
 * </pre>
 * {@code fanout}: N subscribers split over T topics, then one publisher for the duration; reports
 * deliveries/s, publishes/s, expected vs received and sampled latency. {@code connections}: N idle
 * sockets held open for the duration (the caller measures the server's memory meanwhile); it prints
 * {@code holding N connections} once they are all open. Exit codes: 0 done, 2 bad flags, 1 the run failed.
 * See {@link LoadOptions#USAGE} for every flag.
 */
public final class Load {
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** A drain that makes no progress for this long is over: whatever is missing is lost. */
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final LoadOptions options;
    private final ClientTransport transport = ClientTransport.detect();
    private final Deliveries deliveries;
    private final Connector connector;

    private Load(LoadOptions options) {
        this.options = options;
        this.deliveries = new Deliveries(options.sampleEvery());
        this.connector = new Connector(transport, options.url());
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
        CourierApi api = new CourierApi(options.url(), options.secret(), options.audience());
        api.createAudience();
        String[] topics = null;
        if (fanout) {
            topics = new String[options.topics()];
            for (int t = 0; t < topics.length; t++) {
                topics[t] = "bench/" + t;
                api.createTopic(topics[t]);
            }
        }
        SignedKeys keys = new SignedKeys(api);
        EventLoopGroup subscriberLoops = transport.newGroup(options.threads(), "bench-sub");
        // The publisher gets a loop of its own so that its pacing does not queue behind subscriber reads.
        EventLoopGroup publisherLoop = transport.newGroup(1, "bench-pub");
        try {
            AtomicLongArray subscribersPerTopic = new AtomicLongArray(fanout ? topics.length : 1);
            Summary.Opened opened = openAll(subscriberLoops, keys, topics, subscribersPerTopic);
            if (fanout) {
                Summary.Published published = publish(publisherLoop, keys, topics, subscribersPerTopic);
                return new Summary(options, transport.name(), startedAt, opened, published, 0, opened.connected() - deliveries.disconnectedEarly(),
                        deliveries.disconnectedEarly(), deliveries.closeCodes());
            }
            double held = hold(opened);
            return new Summary(options, transport.name(), startedAt, opened, null, held, opened.connected() - deliveries.disconnectedEarly(),
                    deliveries.disconnectedEarly(), deliveries.closeCodes());
        } finally {
            deliveries.closing();
            subscriberLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            publisherLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            subscriberLoops.terminationFuture().awaitUninterruptibly(30, TimeUnit.SECONDS);
            publisherLoop.terminationFuture().awaitUninterruptibly(30, TimeUnit.SECONDS);
        }
    }

    /** Opens the subscribers with at most {@code --handshakes} in flight; subscribed (when given topics) before they count. */
    private Summary.Opened openAll(EventLoopGroup loops, SignedKeys keys, String[] topics, AtomicLongArray subscribersPerTopic)
            throws InterruptedException {
        int n = options.subscribers();
        CpuSampler cpu = new CpuSampler(options.serverPid());
        CpuSampler.Snapshot before = cpu.take();
        Semaphore handshakes = new Semaphore(options.maxHandshakes());
        AtomicInteger connected = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(options.connectTimeoutSeconds());
        long nextProgress = start + PROGRESS_NANOS;
        int launched = 0;
        for (; launched < n; launched++) {
            if (!handshakes.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                break;
            }
            int topicIndex = topics == null ? 0 : launched % topics.length;
            String topic = topics == null ? null : topics[topicIndex];
            Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
            ready.addListener(f -> {
                if (f.isSuccess()) {
                    subscribersPerTopic.incrementAndGet(topicIndex);
                    connected.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    firstError.compareAndSet(null, String.valueOf(f.cause()));
                }
                handshakes.release();
            });
            connector.open(loops, keys.next(), ready, p -> p.replace("ws-decoder", "deliveries", new DeliveryDecoder(deliveries, topic, ready)));
            if (System.nanoTime() >= nextProgress) {
                nextProgress += PROGRESS_NANOS;
                progress("opening: %d ready, %d failed, %d started", connected.get(), failed.get(), launched + 1);
            }
        }
        while (connected.get() + failed.get() < launched && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int missing = n - connected.get() - failed.get();
        if (missing > 0) {
            firstError.compareAndSet(null, missing + " not ready within --connect-timeout " + options.connectTimeoutSeconds() + " s");
        }
        progress("opened %d of %d in %.2f s", connected.get(), n, seconds);
        return new Summary.Opened(n, connected.get(), n - connected.get(), seconds, firstError.get(), cpu.take().since(before));
    }

    private Summary.Published publish(EventLoopGroup loop, SignedKeys keys, String[] topics, AtomicLongArray subscribersPerTopic)
            throws Exception {
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        Promise<PublisherHandler.Result> done = ImmediateEventExecutor.INSTANCE.newPromise();
        PublisherHandler publisher = new PublisherHandler(ready, done, deliveries, topics, options);
        connector.open(loop, keys.next(), ready, p -> p.addLast("publisher", publisher));
        if (!ready.await(15, TimeUnit.SECONDS) || !ready.isSuccess()) {
            throw new IllegalStateException("publisher not connected: " + (ready.cause() == null ? "timeout" : ready.cause()));
        }
        long[] subscribers = new long[topics.length];
        for (int t = 0; t < topics.length; t++) {
            subscribers[t] = subscribersPerTopic.get(t);
        }
        CpuSampler cpu = new CpuSampler(options.serverPid());
        CpuSampler.Snapshot before = cpu.take();
        long durationNanos = TimeUnit.SECONDS.toNanos(options.durationSeconds());
        publisher.start(subscribers, durationNanos);

        long deadline = System.nanoTime() + durationNanos + TimeUnit.SECONDS.toNanos(60);
        long nextProgress = System.nanoTime() + PROGRESS_NANOS;
        long lastReceived = 0;
        while (!done.await(100, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) {
            if (System.nanoTime() >= nextProgress) {
                nextProgress += PROGRESS_NANOS;
                long received = deliveries.received();
                progress("publishing: %d deliveries (%.0f/s in the last 5 s)", received, (received - lastReceived) / 5.0);
                lastReceived = received;
            }
        }
        if (!done.isSuccess()) {
            throw new IllegalStateException("publisher did not finish: " + (done.cause() == null ? "no replies within 60 s of the end" : done.cause()));
        }
        PublisherHandler.Result result = done.getNow();
        long expected = 0;
        for (int t = 0; t < topics.length; t++) {
            expected += result.ackedPerTopic()[t] * subscribers[t];
        }
        long drainEnd = drain(expected, result.lastPublishNanos());
        CpuSampler.Usage usage = cpu.take().since(before);
        double publishSeconds = (result.lastPublishNanos() - result.firstPublishNanos()) / 1e9;
        double drainSeconds = Math.max(0, (drainEnd - result.lastPublishNanos()) / 1e9);
        return new Summary.Published(result.sent(), result.acked(), result.errors(), result.firstError(), publishSeconds, drainSeconds,
                expected, deliveries.received(), deliveries.latencyMicros(), usage, result.stalls());
    }

    /** Waits until every expected delivery arrived, or they stop coming; returns when the last one was seen. */
    private long drain(long expected, long lastPublishNanos) throws InterruptedException {
        long deadline = lastPublishNanos + TimeUnit.SECONDS.toNanos(options.drainTimeoutSeconds());
        long seen = deliveries.received();
        long lastChange = System.nanoTime();
        while (seen < expected) {
            long now = System.nanoTime();
            if (now >= deadline || now - lastChange >= STALL_NANOS) {
                return lastChange;
            }
            Thread.sleep(1);
            long received = deliveries.received();
            if (received != seen) {
                seen = received;
                lastChange = System.nanoTime();
            }
        }
        return lastChange;
    }

    /** Keeps the idle connections open for the duration; returns how long they were held. */
    private double hold(Summary.Opened opened) throws InterruptedException {
        // Scripts wait for this exact line before they measure the server.
        System.out.printf("holding %d connections for %d s%n", opened.connected(), options.durationSeconds());
        System.out.flush();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(options.durationSeconds());
        long nextProgress = start + PROGRESS_NANOS * 2;
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(100, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
            if (System.nanoTime() >= nextProgress) {
                nextProgress += PROGRESS_NANOS * 2;
                progress("holding: %d open", opened.connected() - deliveries.disconnectedEarly());
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static void progress(String format, Object... args) {
        System.out.printf("... " + format + "%n", args);
        System.out.flush();
    }
}
