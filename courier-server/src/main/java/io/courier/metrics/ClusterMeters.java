package io.courier.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The cluster's meters, registered only when the node runs in a cluster (a single node shows none).
 * Lock-free from any thread: the NATS dispatcher thread, the event loops, the cluster thread.
 */
public final class ClusterMeters {
    private final Counter published;
    private final Counter received;
    private final Counter refused;
    private final Counter reconnects;
    private final Counter lostUnknownTopic;
    private final Counter lostMismatch;
    private final Counter lostDiscarded;
    private final Counter lostGap;
    private final Timer lag;

    ClusterMeters(MeterRegistry registry, BooleanSupplier connected, IntSupplier subscriptions) {
        Gauge.builder("courier.cluster.connected", connected, c -> c.getAsBoolean() ? 1 : 0)
                .strongReference(true)
                .description("1 while NATS is connected and this node's subscriptions are in place")
                .register(registry);
        Gauge.builder("courier.cluster.subscriptions", subscriptions, IntSupplier::getAsInt)
                .strongReference(true)
                .description("NATS subscriptions this node holds (topics and audiences with local interest)")
                .register(registry);
        published = Counter.builder("courier.cluster.published")
                .description("Messages published to NATS")
                .register(registry);
        received = Counter.builder("courier.cluster.received")
                .description("Messages received from NATS and handed to the hub")
                .register(registry);
        refused = Counter.builder("courier.cluster.refused")
                .description("Publishes refused with ECLUSTER_UNAVAILABLE (NATS down and its reconnect buffer full)")
                .register(registry);
        reconnects = Counter.builder("courier.cluster.reconnects")
                .description("Reconnections to NATS after a lost connection")
                .register(registry);
        lostUnknownTopic = lost(registry, "unknown_topic");
        lostMismatch = lost(registry, "name_mismatch");
        lostDiscarded = lost(registry, "discarded");
        lostGap = lost(registry, "gap");
        lag = Timer.builder("courier.cluster.lag")
                .description("From a publish on its origin node to its arrival in this node's hub")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
    }

    private static Counter lost(MeterRegistry registry, String reason) {
        return Counter.builder("courier.cluster.lost")
                .description("Messages between nodes known to be lost, by reason")
                .tag("reason", reason)
                .register(registry);
    }

    public void published() {
        published.increment();
    }

    public void received() {
        received.increment();
    }

    public void refused() {
        refused.increment();
    }

    public void reconnected() {
        reconnects.increment();
    }

    /** A message for a topic neither this node's catalogue nor the store knows (or the store could not say). */
    public void lostUnknownTopic() {
        lostUnknownTopic.increment();
    }

    /** A message whose header names do not match its subject (a hash collision or a foreign publisher). */
    public void lostMismatch() {
        lostMismatch.increment();
    }

    /** A publish jnats discarded because its outgoing queue was full. */
    public void lostDiscarded() {
        lostDiscarded.increment();
    }

    /** {@code missing} messages of one origin on one subject never arrived (a sequence gap). */
    public void lostGap(long missing) {
        lostGap.increment(missing);
    }

    public void lag(long micros) {
        lag.record(Math.max(0, micros), TimeUnit.MICROSECONDS);
    }

    public Timer lagTimer() {
        return lag;
    }
}
