package io.courier.cluster;

import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.hub.Hub;
import io.courier.logging.RateLimitedLog;
import io.courier.metrics.ClusterMeters;
import io.courier.metrics.CourierMetrics;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.impl.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Broker} over core NATS: one connection per node ({@code noEcho}), one subject per
 * audience and topic and one per audience for broadcasts ({@link Subjects}), subscribed while this
 * node has local interest.
 *
 * <p>Interest: the first local subscriber of a topic queues a NATS subscription on the cluster
 * thread, followed by a flush (a PING round trip: once NATS answers it, it holds the subscription),
 * and only then completes the stage {@link #join} returned; subscriptions queued together share one
 * flush. After the last local subscriber leaves, the subscription lingers for
 * {@link ClusterSettings#unsubscribeLinger()} and is dropped only if nobody joined meanwhile, so
 * subscribe churn does not thrash NATS (Centrifuge's dissolver does the same).
 *
 * <p>Failure: the first connection is retried every second in the background, so a node starts and
 * serves its local clients while NATS is down; until then publishes are refused (there is no
 * connection to buffer them in). Once connected, jnats reconnects forever, holds publishes in its
 * bounded reconnect buffer meanwhile and resubscribes by itself; a publish it cannot buffer is
 * refused before local delivery. {@link #isUp} is false from a disconnection until the
 * resubscription has been flushed.
 *
 * <p>Hazard: a join while NATS is down completes at once (the subscription is replayed when NATS
 * returns), so the ack's guarantee holds only while {@link #isUp}.
 */
public final class NatsBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(NatsBroker.class);
    private static final RateLimitedLog rare = new RateLimitedLog(log, 10, TimeUnit.SECONDS);

    static final String ORIGIN = "Courier-Origin";
    static final String AUDIENCE = "Courier-Audience";
    static final String TOPIC = "Courier-Topic";
    /** Microseconds since the epoch on the origin node when it published: the lag histogram's start. */
    static final String SENT = "Courier-Sent";
    /**
     * The origin's sequence number on this subject: 1, 2, 3... per (origin node, subject). A receiver
     * sees only the subjects it has interest in, so a count per subject is what it can check: a jump
     * from n to n + k counts k - 1 messages lost ({@code courier_cluster_lost_total{reason="gap"}}).
     */
    static final String SEQ = "Courier-Seq";
    /** Topic creations, announced by the node that created them; every node always subscribes. */
    static final String CATALOG = "courier.catalog";

    /** What a message's subject and headers add to its payload in the reconnect buffer, about. */
    private static final int HEADER_ALLOWANCE_BYTES = 256;

    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(2);
    private static final long RETRY_CONNECT_MILLIS = 1000;
    /**
     * Messages jnats may queue for its writer. Past it, publishes are discarded and counted
     * ({@code courier_cluster_lost_total{reason="discarded"}}) rather than blocking the event loop
     * that publishes, which is what jnats does by default.
     */
    private static final int MAX_OUTGOING_MESSAGES = 65_536;

    private final ClusterSettings settings;
    private final Hub hub;
    private final ClusterMeters meters;
    private final CatalogSync catalog;
    /** Per subject this node publishes to: the last sequence sent. Lock each while publishing. */
    private final ConcurrentHashMap<String, long[]> sequences = new ConcurrentHashMap<>();
    /** Cluster thread only: the first connection attempt failed, so announcements may have been missed. */
    private boolean connectFailed;

    private final ConcurrentHashMap<String, Interest> interests = new ConcurrentHashMap<>();
    private final Inbound inbound;
    private final ScheduledExecutorService clusterThread;
    private final AtomicInteger held = new AtomicInteger();
    /** Bytes published while NATS was unreachable, against the reconnect buffer ({@link #holdWhileDown}). */
    private final AtomicLong heldWhileDown = new AtomicLong();
    /** Cluster thread only: stages to complete after the next flush. */
    private final List<CompletableFuture<Void>> awaitingFlush = new ArrayList<>();

    private boolean flushQueued;
    /** Set once, on the cluster thread, when the first connection succeeds. */
    private volatile Connection connection;
    /** Cluster thread only. */
    private Dispatcher dispatcher;

    private volatile boolean up;
    private volatile boolean closed;
    /** History topics' JetStream side, once it registered. */
    private volatile ClusterHistory history;

    private NatsBroker(ClusterSettings settings, Hub hub, CourierMetrics metrics, CatalogSync catalog) {
        this.settings = settings;
        this.hub = hub;
        this.catalog = catalog;
        this.meters = metrics.watchCluster(this::isUp, held::get);
        this.inbound = new Inbound(settings.nodeId(), hub, meters, catalog, interests, () -> history);
        this.clusterThread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "courier-cluster");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts connecting in the background and returns at once, whether NATS is up or not. */
    public static NatsBroker start(ClusterSettings settings, Hub hub, CourierMetrics metrics, CatalogSync catalog) {
        NatsBroker broker = new NatsBroker(settings, hub, metrics, catalog);
        log.info("cluster: node {} connecting to NATS {}", settings.nodeId(), settings);
        broker.onClusterThread(broker::connect);
        return broker;
    }

    public String nodeId() {
        return settings.nodeId();
    }

    @Override
    public boolean isUp() {
        return up;
    }

    /** Registers the history's JetStream side; it hears of every (re)connection from then on. */
    void useHistory(ClusterHistory history) {
        this.history = history;
        onClusterThread(() -> {
            if (connection != null) {
                history.connected(connection);
            }
        });
    }

    /** NATS subscriptions held (including lingering ones). */
    public int subscriptionCount() {
        return held.get();
    }

    /** The lag histogram and counters, for tests and the benchmark. */
    public ClusterMeters meters() {
        return meters;
    }

    // ---- publishing (any thread) ----

    @Override
    public void publish(String audience, String topic, ByteBuf message) {
        if (!hub.topics().contains(audience, topic)) {
            throw new CourierException(ErrorCode.ETOPIC_NOTFOUND, "no topic '" + topic + "' in audience " + audience);
        }
        send(Subjects.message(audience, topic), audience, topic, message);
        hub.publish(audience, topic, message);
    }

    @Override
    public void broadcast(String audience, ByteBuf message) {
        send(Subjects.broadcast(audience), audience, null, message);
        hub.broadcast(audience, message);
    }

    private void send(String subject, String audience, String topic, ByteBuf message) {
        Connection c = connection;
        if (c == null || closed) {
            refuse("not connected to NATS yet");
        }
        Headers headers = new Headers();
        headers.put(ORIGIN, settings.nodeId());
        headers.put(AUDIENCE, Subjects.escape(audience));
        if (topic != null) {
            headers.put(TOPIC, Subjects.escape(topic));
        }
        headers.put(SENT, Long.toString(nowMicros()));
        byte[] data = ByteBufUtil.getBytes(message, message.readerIndex(), message.readableBytes());
        if (!up) {
            holdWhileDown(data.length);
        }
        long[] sequence = sequences.computeIfAbsent(subject, s -> new long[1]);
        // Numbered and queued under one lock, so the numbers reach NATS in order even when several
        // threads publish to one subject; jnats's publish only queues the bytes.
        synchronized (sequence) {
            headers.put(SEQ, Long.toString(sequence[0] + 1));
            try {
                c.publish(subject, headers, data);
            } catch (IllegalStateException e) {
                // jnats: the reconnect buffer is full, or the connection is closed. The number is not used.
                refuse("NATS is unreachable and its reconnect buffer is full");
            }
            sequence[0]++;
        }
        meters.published();
    }

    /**
     * Tells the other nodes that this one created {@code topic}. Best effort: a node that misses it
     * (cut off from NATS) reloads its catalogue when it reconnects, and any node asks the store on a
     * miss. Any thread; never blocks.
     */
    public void announce(String audience, String topic, HistorySettings history) {
        Connection c = connection;
        if (c == null || closed) {
            return;
        }
        Headers headers = new Headers();
        headers.put(ORIGIN, settings.nodeId());
        CatalogAnnouncement.putHistory(headers, history);
        try {
            c.publish(CATALOG, headers, CatalogAnnouncement.encode(audience, topic));
        } catch (IllegalStateException e) {
            warn("cannot announce a new topic to the other nodes now: {}", e.getMessage());
        }
    }

    /**
     * Our own count of the reconnect buffer, besides jnats's: measured here, jnats's check let a
     * publish through a 1-byte buffer once any message had been sent before the outage (its queue's
     * byte count is not what it holds then), so the bound is kept here too. Reset on reconnection.
     */
    private void holdWhileDown(int payloadBytes) {
        long bytes = payloadBytes + HEADER_ALLOWANCE_BYTES;
        if (heldWhileDown.addAndGet(bytes) > settings.reconnectBufferBytes()) {
            heldWhileDown.addAndGet(-bytes);
            refuse("NATS is unreachable and its reconnect buffer is full");
        }
    }

    private void refuse(String why) {
        meters.refused();
        throw new CourierException(ErrorCode.ECLUSTER_UNAVAILABLE, why + "; nothing was delivered, retry later");
    }

    static long nowMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    // ---- interest (any thread; the NATS work is queued on the cluster thread) ----

    @Override
    public CompletionStage<Void> join(String audience, String topic) {
        return acquire(Subjects.message(audience, topic), audience, topic);
    }

    @Override
    public void leave(String audience, String topic) {
        release(Subjects.message(audience, topic));
    }

    @Override
    public void connected(String audience) {
        acquire(Subjects.broadcast(audience), audience, null);
    }

    @Override
    public void disconnected(String audience) {
        release(Subjects.broadcast(audience));
    }

    private CompletionStage<Void> acquire(String subject, String audience, String topic) {
        boolean[] created = {false};
        Interest interest = interests.compute(subject, (s, current) -> {
            Interest i = current;
            if (i == null) {
                i = new Interest(audience, topic);
                created[0] = true;
            }
            i.refs++;
            return i;
        });
        if (created[0]) {
            Interest fresh = interest;
            onClusterThread(() -> subscribe(subject, fresh));
        }
        return interest.ready;
    }

    private void release(String subject) {
        interests.computeIfPresent(subject, (s, i) -> {
            if (--i.refs == 0) {
                long generation = ++i.generation;
                later(
                        () -> expire(subject, generation),
                        settings.unsubscribeLinger().toMillis());
            }
            return i;
        });
    }

    // ---- the cluster thread ----

    /** Queues {@code task}; after {@link #close} there is nothing left to do, so it is dropped. */
    private void onClusterThread(Runnable task) {
        later(task, 0);
    }

    private void later(Runnable task, long delayMillis) {
        if (closed) {
            return;
        }
        try {
            clusterThread.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    private void subscribe(String subject, Interest interest) {
        if (dispatcher == null || closed) {
            // Not connected yet: the first connection subscribes to everything in the map.
            interest.ready.complete(null);
            return;
        }
        dispatcher.subscribe(subject);
        interest.subscribed = true;
        held.incrementAndGet();
        awaitingFlush.add(interest.ready);
        if (!flushQueued) {
            flushQueued = true;
            onClusterThread(this::flushSubscriptions);
        }
    }

    private void flushSubscriptions() {
        flushQueued = false;
        List<CompletableFuture<Void>> done = new ArrayList<>(awaitingFlush);
        awaitingFlush.clear();
        flush();
        done.forEach(f -> f.complete(null));
    }

    /** Returns true when NATS answered the PING: it holds every subscription sent before. */
    private boolean flush() {
        Connection c = connection;
        if (c == null || c.getStatus() != Connection.Status.CONNECTED) {
            return false;
        }
        try {
            c.flush(FLUSH_TIMEOUT);
            return true;
        } catch (TimeoutException | IllegalStateException e) {
            warn("NATS flush failed: {}", e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void expire(String subject, long generation) {
        boolean[] removed = {false};
        Interest[] gone = {null};
        interests.computeIfPresent(subject, (s, i) -> {
            if (i.refs == 0 && i.generation == generation) {
                removed[0] = true;
                gone[0] = i;
                return null;
            }
            return i;
        });
        // A join after the removal creates a new Interest whose subscribe is queued behind this task.
        if (removed[0] && gone[0].subscribed && dispatcher != null && !closed) {
            dispatcher.unsubscribe(subject);
            held.decrementAndGet();
        }
    }

    private void connect() {
        if (closed) {
            return;
        }
        try {
            Connection c = Nats.connect(options());
            onFirstConnection(c);
        } catch (IOException e) {
            connectFailed = true;
            warn("cannot reach NATS yet ({}); retrying every {} ms", e.getMessage(), RETRY_CONNECT_MILLIS);
            later(this::connect, RETRY_CONNECT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void onFirstConnection(Connection c) {
        if (closed) {
            closeQuietly(c);
            return;
        }
        connection = c;
        dispatcher = c.createDispatcher(inbound::onMessage);
        dispatcher.subscribe(CATALOG);
        interests.forEach((subject, interest) -> {
            dispatcher.subscribe(subject);
            interest.subscribed = true;
            held.incrementAndGet();
        });
        if (flush()) {
            up = true;
        }
        if (history != null) {
            history.connected(c);
        }
        if (connectFailed) {
            catalog.reload(); // topics created while NATS was unreachable were announced to nobody here
        }
        log.info("cluster: node {} connected to NATS {}", settings.nodeId(), c.getConnectedUrl());
    }

    private void onEvent(ConnectionListener.Events event) {
        switch (event) {
            case DISCONNECTED, CLOSED -> {
                if (up) {
                    log.warn("cluster: lost NATS ({}); reconnecting", event);
                }
                up = false;
            }
            case RECONNECTED -> {
                meters.reconnected();
                heldWhileDown.set(0);
            }
            case RESUBSCRIBED -> {
                // jnats has re-sent every subscription; the PING round trip confirms NATS holds them.
                if (connection != null && flush()) {
                    up = true;
                    log.info("cluster: NATS back, subscriptions in place");
                }
                // Announcements made during the outage never reached this node.
                catalog.reload();
                if (history != null && connection != null) {
                    history.connected(connection); // the stream may have been lost with its server
                }
            }
            default -> {}
        }
    }

    private Options options() {
        return NatsOptions.of(settings, MAX_OUTGOING_MESSAGES, event -> onClusterThread(() -> onEvent(event)), meters);
    }

    private static void warn(String format, Object... args) {
        var warning = rare.warning();
        if (warning != null) {
            warning.log(format, args);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the NATS connection; publishes are refused from now on. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        up = false;
        clusterThread.shutdownNow();
        try {
            clusterThread.awaitTermination(FLUSH_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Connection c = connection;
        if (c != null) {
            closeQuietly(c);
        }
    }
}
