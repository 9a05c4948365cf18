package io.courier.metrics;

import io.courier.error.CloseCode;
import io.courier.error.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Every meter Courier publishes, named by Prometheus conventions ({@code courier_} prefix, base
 * units, {@code _total} counters). Labelled meters are looked up once, here, so recording on the
 * hot path is an array or enum-map read plus a lock-free increment: no allocation, no lock, no
 * per-audience or per-topic label (their number is unbounded). Any thread.
 */
public final class CourierMetrics {
    private static final Set<HttpMethod> KNOWN_METHODS = Set.of(
            HttpMethod.GET,
            HttpMethod.POST,
            HttpMethod.OPTIONS,
            HttpMethod.PUT,
            HttpMethod.DELETE,
            HttpMethod.PATCH,
            HttpMethod.HEAD);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** [source][0 = publish, 1 = broadcast] */
    private final Counter[][] published = new Counter[MessageSource.values().length][2];

    private final Counter deliveries;
    private final Map<ErrorCode, Counter> refused = new EnumMap<>(ErrorCode.class);
    private final Counter opened;
    private final Map<CloseCode, Counter> closed = new EnumMap<>(CloseCode.class);
    private final Counter closedByClient;
    private final Map<String, Counter> handshakesRefused = new ConcurrentHashMap<>();
    private final Map<String, Counter> authFailures = new ConcurrentHashMap<>();
    private final Map<String, Counter> connectionsRefused = new ConcurrentHashMap<>();
    private final Map<String, Timer> httpRequests = new ConcurrentHashMap<>();
    private final Timer fanout;
    /** Subscribes with {@code since} on history topics: [0] recovered, [1] not recovered. */
    private final Counter[] recoveries = new Counter[2];

    public CourierMetrics() {
        // Before any binder registers: fills in the help text some binders leave empty.
        registry.config().meterFilter(new MeterDescriptions());
        for (MessageSource source : MessageSource.values()) {
            published[source.ordinal()][0] = publishedCounter(source, "publish");
            published[source.ordinal()][1] = publishedCounter(source, "broadcast");
        }
        deliveries = Counter.builder("courier.deliveries")
                .description("Frames handed to subscriber connections")
                .register(registry);
        for (ErrorCode code : ErrorCode.values()) {
            refused.put(
                    code,
                    Counter.builder("courier.messages.refused")
                            .description("Socket frames and hook calls refused, by error code")
                            .tag("code", code.name())
                            .register(registry));
        }
        for (int i = 0; i < 2; i++) {
            recoveries[i] = Counter.builder("courier.history.recoveries")
                    .description("Subscribes with since on history topics, by verdict")
                    .tag("result", i == 0 ? "recovered" : "not_recovered")
                    .register(registry);
        }
        opened = Counter.builder("courier.connections.opened")
                .description("WebSocket connections opened")
                .register(registry);
        // Codes that share a label share a counter: the registry returns the one already registered.
        for (CloseCode code : CloseCode.values()) {
            closed.put(code, closedCounter(code.metricLabel()));
        }
        closedByClient = closedCounter(CloseCode.CLOSED_BY_CLIENT);
        // Registered up front so a scrape shows 0 before the first refusal (a rate alert needs a series).
        connectionRefused("max_connections", 0);
        connectionRefused("max_connections_per_address", 0);
        fanout = Timer.builder("courier.fanout")
                .description("From receipt of a publish to its last write handed to the network, per event loop")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(1_000))
                .maximumExpectedValue(Duration.ofSeconds(1))
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        // The allocator the server's channels and fan-out frames use (see CourierServer).
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            new NettyAllocatorMetrics(provider).bindTo(registry);
        }
    }

    private Counter closedCounter(String reason) {
        return Counter.builder("courier.connections.closed")
                .description("WebSocket connections closed, by reason")
                .tag("reason", reason)
                .register(registry);
    }

    private Counter publishedCounter(MessageSource source, String kind) {
        return Counter.builder("courier.messages.published")
                .description("Messages accepted for fan-out, by source and kind")
                .tag("source", source.label())
                .tag("kind", kind)
                .register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public MeterRegistry meterRegistry() {
        return registry;
    }

    /**
     * Gauges read from the hub at scrape time. The assembler hands in the readings, so this package
     * does not know the hub. Each supplier is held strongly: a gauge holds its object weakly, and a
     * method reference made for the call would otherwise be collected and read as NaN.
     */
    public void watchHub(IntSupplier connections, IntSupplier subscriptions, IntSupplier activeAudiences) {
        gauge("courier.connections", "Open WebSocket connections", connections);
        gauge("courier.subscriptions", "Topic subscriptions held by open connections", subscriptions);
        gauge("courier.audiences.active", "Audiences with at least one open connection", activeAudiences);
    }

    /**
     * Registers the cluster's meters (called by the assembler in cluster mode only).
     *
     * @param connected 1 while NATS is connected and the node's subscriptions are in place
     * @param subscriptions the NATS subscriptions the node holds
     */
    public ClusterMeters watchCluster(BooleanSupplier connected, IntSupplier subscriptions) {
        return new ClusterMeters(registry, connected, subscriptions);
    }

    /** Gauges read from the topic catalogue at scrape time. */
    public void watchTopics(IntSupplier audiences, IntSupplier topics) {
        gauge("courier.audiences", "Audiences with topics held in memory", audiences);
        gauge("courier.topics", "Topics held in memory", topics);
    }

    /** Cluster only: store lookups made on catalogue misses ({@code courier_topic_lookups_total}). */
    private volatile LongSupplier topicLookups = () -> 0;

    /** Cluster only: store lookups made on catalogue misses ({@code courier_topic_lookups_total}). */
    public void watchTopicLookups(LongSupplier lookups) {
        // A function counter holds its object weakly: this one lives as long as the server.
        this.topicLookups = lookups;
        FunctionCounter.builder("courier.topic.lookups", this, m -> (double) m.topicLookups.getAsLong())
                .description("Store lookups made because a topic was not in this node's catalogue")
                .register(registry);
    }

    private void gauge(String name, String description, IntSupplier value) {
        Gauge.builder(name, value, IntSupplier::getAsInt)
                .strongReference(true)
                .description(description)
                .register(registry);
    }

    /**
     * Outbound frame bytes waiting in the event loops' fan-out queues: a burst, or subscribers past
     * the slow-consumer bound that a loop waits for (throttled past 16 times that bound per loop).
     */
    public void watchFanoutQueues(LongSupplier queuedBytes) {
        Gauge.builder("courier.fanout.queued", queuedBytes, LongSupplier::getAsLong)
                .baseUnit("bytes")
                .strongReference(true)
                .description("Outbound frame bytes waiting in the event loops' fan-out queues")
                .register(registry);
    }

    /**
     * Unsent bytes in the WebSocket connections' outbound buffers, as the server-wide budget
     * ({@code courier.ws.outbound.max.bytes}) last read them.
     */
    public void watchOutbound(LongSupplier queuedBytes) {
        Gauge.builder("courier.outbound.queued", queuedBytes, LongSupplier::getAsLong)
                .baseUnit("bytes")
                .strongReference(true)
                .description(
                        "Unsent bytes in the WebSocket connections' outbound buffers (courier.ws.outbound.max.bytes)")
                .register(registry);
    }

    /** Single node: the bytes topic histories hold ({@code courier.history.max.memory.bytes}). */
    public void watchHistory(LongSupplier heldBytes) {
        Gauge.builder("courier.history", heldBytes, LongSupplier::getAsLong)
                .baseUnit("bytes")
                .strongReference(true)
                .description("Bytes the topic histories hold in memory")
                .register(registry);
    }

    /** The bytes reserved by request bodies being received ({@code courier.http.max.buffered.bytes}). */
    public void watchBufferedBodies(LongSupplier heldBytes) {
        Gauge.builder("courier.http.buffered", heldBytes, LongSupplier::getAsLong)
                .baseUnit("bytes")
                .strongReference(true)
                .description("Bytes reserved by HTTP request bodies being received")
                .register(registry);
    }

    public void published(MessageSource source, boolean broadcast) {
        published[source.ordinal()][broadcast ? 1 : 0].increment();
    }

    /** A subscribe with {@code since} on a history topic was answered {@code recovered}. Any thread. */
    public void recovery(boolean recovered) {
        recoveries[recovered ? 0 : 1].increment();
    }

    public void refused(ErrorCode code) {
        refused.get(code).increment();
    }

    public void connectionOpened() {
        opened.increment();
    }

    /** A connection the server closed with {@code code}. */
    public void connectionClosed(CloseCode code) {
        closed.get(code).increment();
    }

    /** A connection the client closed or the network dropped. */
    public void connectionClosedByClient() {
        closedByClient.increment();
    }

    /** @param reason a short, bounded label such as {@code bad_key} or {@code expired_key} */
    public void handshakeRefused(String reason) {
        handshakesRefused
                .computeIfAbsent(
                        reason,
                        r -> Counter.builder("courier.handshakes.refused")
                                .description("WebSocket upgrades refused, by reason")
                                .tag("reason", r)
                                .register(registry))
                .increment();
    }

    /** Open TCP connections of every kind, the number {@code courier.max.connections} caps. */
    public void watchTcpConnections(IntSupplier open) {
        gauge("courier.tcp.connections", "Open TCP connections, HTTP and WebSocket", open);
    }

    /** @param reason {@code max_connections} or {@code max_connections_per_address} */
    public void connectionRefused(String reason) {
        connectionRefused(reason, 1);
    }

    private void connectionRefused(String reason, int count) {
        connectionsRefused
                .computeIfAbsent(
                        reason,
                        r -> Counter.builder("courier.connections.refused")
                                .description("TCP connections closed at accept, by the limit they met")
                                .tag("reason", r)
                                .register(registry))
                .increment(count);
    }

    /** @param reason a short, bounded label such as {@code expired} */
    public void authFailed(String reason) {
        authFailures
                .computeIfAbsent(
                        reason,
                        r -> Counter.builder("courier.auth.failures")
                                .description("Bearer tokens refused, by reason")
                                .tag("reason", r)
                                .register(registry))
                .increment();
    }

    /**
     * @param route the route's path, or {@code unmatched}: never the raw request path
     * @param error the error code the response carries, or null for a success: the {@code code} label
     *     ({@code none} for a success) tells apart what the status alone cannot, e.g. a 503 from the
     *     database ({@code EDB_UNAVAILABLE}) from one of overload ({@code EOVERLOADED}, {@code
     *     EUNAVAILABLE}) or of the cluster ({@code ECLUSTER_UNAVAILABLE}). An error code implies its
     *     status, so the label adds few series.
     */
    public void httpRequest(String route, HttpMethod method, int status, ErrorCode error, long nanos) {
        String m = KNOWN_METHODS.contains(method) ? method.name() : "OTHER";
        String code = error == null ? "none" : error.name();
        String key = route + ' ' + m + ' ' + status + ' ' + code;
        httpRequests
                .computeIfAbsent(
                        key,
                        k -> Timer.builder("courier.http.requests")
                                .description("HTTP requests by route, method, status and error code")
                                .tag("route", route)
                                .tag("method", m)
                                .tag("status", Integer.toString(status))
                                .tag("code", code)
                                .publishPercentileHistogram()
                                .minimumExpectedValue(Duration.ofNanos(10_000))
                                .maximumExpectedValue(Duration.ofSeconds(10))
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Frames handed to subscriber connections by one fan-out batch. */
    public void delivered(long count) {
        deliveries.increment(count);
    }

    /** From a publish entering the hub to its last write on one event loop being flushed. */
    public void fannedOut(long nanos) {
        fanout.record(nanos, TimeUnit.NANOSECONDS);
    }
}
