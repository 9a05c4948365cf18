package io.courier.cluster;

import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.history.HistoryEngine;
import io.courier.history.Position;
import io.courier.history.Publication;
import io.courier.history.Recovery;
import io.courier.hub.Frames;
import io.courier.hub.Hub;
import io.courier.hub.StateLost;
import io.courier.hub.Subscriber;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.Republish;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * History topics in a cluster: one JetStream stream, {@value #STREAM}, holds every history topic's
 * messages under {@code courier.h.<audience>.<topic>} ({@link Subjects#stored}) in file storage
 * (it survives a NATS restart, and so does its creation time, which is the epoch), with deletes and
 * purges denied. It republishes each stored message to the topic's ordinary subject with its
 * sequence: that copy is the only one any node delivers, the origin included, so every node sees
 * one order per topic, and the offset is the stream sequence (strictly increasing per topic, not
 * consecutive).
 *
 * <p>Limits: JetStream on nats-server 2.9 keeps limits per stream, not per message, so the
 * stream's are the server-wide maxima ({@code courier.history.max.size} messages per subject,
 * {@code courier.history.max.ttl.seconds}); each topic's own size and TTL are applied when reading.
 *
 * <p>Recovery (Centrifuge's buffer-and-merge): the subscriber joins the hub muted and a buffer
 * collects the topic's republished frames; once NATS holds this node's interest, the stream's last
 * sequence on the subject is the position and the messages after the client's offset are read;
 * back on the subscriber's loop the ack, the replay and the buffered frames past the position are
 * written, and the subscription goes live past the last of them ({@link #live}). A message stored
 * after the position was read is republished after the buffer opened, so it is in the buffer or
 * comes through the fan-out; one stored before is in the replay.
 *
 * <p>Whether the offsets after the client's are all still there: retention drops the oldest of a
 * subject first, so they are when a message at or before the client's offset is still stored. A
 * topic with no message yet gets a marker message ({@value #MARKER}, never delivered), so that the
 * position of an empty topic is a stored message too.
 *
 * <p>Threads: JetStream reads and synchronous publishes on {@link #reads}; {@link #republished} on
 * the broker's dispatcher thread; {@link #connected} on the cluster thread; subscribe and live on
 * the subscriber's event loop. Nothing here blocks an event loop.
 */
public final class ClusterHistory implements HistoryEngine {
    private static final Logger log = LoggerFactory.getLogger(ClusterHistory.class);

    static final String STREAM = "COURIER_HISTORY";
    static final String SEQUENCE = "Nats-Sequence";
    static final String LAST_SEQUENCE = "Nats-Last-Sequence";
    /** A stored message that only marks where an empty topic's stream stands. */
    static final String MARKER = "Courier-Marker";

    private static final int NO_MESSAGE = 10037;

    /** A subscriber's recovery in progress: the frames republished meanwhile. Guarded by its topic. */
    private static final class Pending {
        final ArrayDeque<ByteBuf> frames = new ArrayDeque<>();
        final ArrayDeque<Long> offsets = new ArrayDeque<>();
        boolean open = true;
    }

    /** A history topic as this node sees it. */
    private static final class TopicState {
        final byte[] prefix;
        final List<Pending> pending = new ArrayList<>();
        /** Dispatcher thread only: the interest the sequence below was seen under. */
        Object interest;
        /**
         * The sequence of the last republished message, -1 before one. Reset by the dispatcher thread
         * only; raised (never lowered) by it and by {@link #findMissed} once it told a gap.
         */
        final AtomicLong lastSeq = new AtomicLong(-1);

        TopicState(String topic) {
            this.prefix = Frames.publishPrefix(topic);
        }
    }

    private final NatsBroker broker;
    private final Hub hub;
    private final ByteBufAllocator alloc;
    private final Config.HistoryConfig config;
    private final ExecutorService reads;
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, TopicState>> topics = new ConcurrentHashMap<>();

    private volatile JetStream js;
    private volatile JetStreamManagement jsm;
    /** The stream's creation time; null until known. */
    private volatile String epoch;

    public ClusterHistory(NatsBroker broker, Hub hub, ByteBufAllocator alloc, Config.HistoryConfig config) {
        this.broker = broker;
        this.hub = hub;
        this.alloc = alloc;
        this.config = config;
        AtomicInteger n = new AtomicInteger();
        this.reads = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), r -> {
            Thread t = new Thread(r, "courier-history-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        broker.useHistory(this);
    }

    // ---- the stream (cluster thread) ----

    /** (Re)connected: makes sure the stream exists with our limits, and reads its epoch. */
    void connected(Connection c) {
        try {
            JetStreamManagement m = c.jetStreamManagement();
            StreamConfiguration sc = StreamConfiguration.builder()
                    .name(STREAM)
                    .subjects(Subjects.STORED_PREFIX + ">")
                    .storageType(StorageType.File)
                    .maxMessagesPerSubject(config.maxSize() + 1L) // + an empty topic's marker
                    .maxAge(Duration.ofSeconds(config.maxTtlSeconds()))
                    .discardPolicy(DiscardPolicy.Old)
                    .denyDelete(true)
                    .denyPurge(true)
                    .republish(Republish.builder()
                            .source(Subjects.STORED_PREFIX + ">")
                            .destination("courier.m.>")
                            .build())
                    .build();
            StreamInfo info;
            try {
                info = m.addStream(sc); // the same configuration again is a no-op
            } catch (JetStreamApiException e) {
                info = m.updateStream(sc); // another node (or release) set other limits: ours win
            }
            String now = epochOf(info.getCreateTime());
            String before = epoch;
            jsm = m;
            js = c.jetStream();
            epoch = now;
            if (before != null && !before.equals(now)) {
                // The stream was lost and recreated: every offset a subscriber holds means nothing.
                log.warn("cluster: the history stream was recreated (epoch {} -> {})", before, now);
                topics.forEach((audience, byTopic) ->
                        byTopic.keySet().forEach(topic -> hub.stateLost(audience, topic, new StateLost(topic))));
            } else if (before != null) {
                // Back after an outage: what was republished meanwhile never reached this node, and a
                // topic that gets no new message would never show the gap. Look for it.
                CompletableFuture.runAsync(
                        this::findMissed, CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS, reads));
            } else {
                log.info("cluster: history stream {} ready, epoch {}", STREAM, now);
            }
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            log.warn("cluster: JetStream unavailable, history topics refuse publishes until it is: {}", e.toString());
        }
    }

    private static String epochOf(ZonedDateTime created) {
        Instant at = created.toInstant();
        return Long.toString(at.getEpochSecond(), 36) + "." + Long.toString(at.getNano(), 36);
    }

    /**
     * After a reconnection: a topic whose stream holds a later message than the last one this node
     * received lost messages while it was away. The stream's last sequences are read first and
     * compared a second later, so a message stored just before the read has had time to arrive (a
     * check that fires wrongly would close sockets for nothing). Reads pool.
     */
    private void findMissed() {
        JetStreamManagement m = jsm;
        if (m == null) {
            return;
        }
        List<Runnable> checks = new ArrayList<>();
        topics.forEach((audience, byTopic) -> byTopic.forEach((topic, state) -> {
            if (state.lastSeq.get() < 0) {
                return;
            }
            try {
                MessageInfo last = message(() -> m.getLastMessage(STREAM, Subjects.stored(audience, topic)));
                if (last != null && last.getSeq() > state.lastSeq.get()) {
                    long stored = last.getSeq();
                    checks.add(() -> {
                        long seen = state.lastSeq.get();
                        if (seen >= 0 && seen < stored) {
                            // Told once: the chain goes on from the stream's last message, so
                            // the next one (whose Nats-Last-Sequence is that message) is no second
                            // gap for a client told this one that came back while the interest lingers.
                            state.lastSeq.accumulateAndGet(stored, Math::max);
                            broker.meters().lostGap(1);
                            hub.stateLost(audience, topic, new StateLost(topic));
                        }
                    });
                }
            } catch (IOException | JetStreamApiException e) {
                log.warn("cluster: cannot check topic history after reconnecting: {}", e.toString());
            }
        }));
        if (!checks.isEmpty()) {
            CompletableFuture.runAsync(
                    () -> checks.forEach(Runnable::run), CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS, reads));
        }
    }

    // ---- publishing (any thread) ----

    @Override
    public boolean keeps(String audience, String topic) {
        return hub.topics().history(audience, topic).enabled();
    }

    @Override
    public CompletionStage<Position> publish(String audience, String topic, ByteBuf message) {
        JetStream stream = js;
        String e = epoch;
        if (stream == null || e == null || !broker.isUp()) {
            return refused("NATS or JetStream is unreachable");
        }
        Headers headers = new Headers();
        headers.put(NatsBroker.ORIGIN, broker.nodeId());
        headers.put(NatsBroker.AUDIENCE, Subjects.escape(audience));
        headers.put(NatsBroker.TOPIC, Subjects.escape(topic));
        byte[] data = ByteBufUtil.getBytes(message, message.readerIndex(), message.readableBytes());
        try {
            return stream.publishAsync(Subjects.stored(audience, topic), headers, data)
                    .handle((ack, error) -> {
                        if (error != null) {
                            broker.meters().refused();
                            throw new CompletionException(new CourierException(
                                    ErrorCode.ECLUSTER_UNAVAILABLE,
                                    "JetStream did not confirm the message; it may or may not be stored"));
                        }
                        broker.meters().published();
                        return new Position(ack.getSeqno(), e);
                    });
        } catch (IllegalStateException full) {
            return refused("NATS is unreachable and its reconnect buffer is full");
        }
    }

    private <T> CompletionStage<T> refused(String why) {
        broker.meters().refused();
        return CompletableFuture.failedFuture(
                new CourierException(ErrorCode.ECLUSTER_UNAVAILABLE, why + "; nothing was stored, retry later"));
    }

    // ---- republished messages (dispatcher thread) ----

    /**
     * One stored message as the stream republished it to this node. {@code Nats-Last-Sequence}
     * names the previous sequence on the same subject, so one this node never got shows as a gap
     * while it holds the same interest (a new interest starts a new chain): counted, and the topic's
     * subscribers here are told.
     */
    void republished(String audience, String topic, Object interest, Message msg) {
        Headers headers = msg.getHeaders();
        long seq = number(headers.getFirst(SEQUENCE));
        long previous = number(headers.getFirst(LAST_SEQUENCE));
        TopicState state = state(audience, topic);
        if (state.interest != interest) {
            state.interest = interest;
            state.lastSeq.set(-1);
        }
        long last = state.lastSeq.get();
        if (seq <= last) {
            return; // seen already, or told as lost by findMissed
        }
        if (last >= 0 && previous != last) {
            broker.meters().lostGap(1);
            hub.stateLost(audience, topic, new StateLost(topic));
        }
        state.lastSeq.accumulateAndGet(seq, Math::max);
        if (headers.getFirst(MARKER) != null) {
            return;
        }
        ByteBuf frame = Frames.frameWithOffset(alloc, state.prefix, Unpooled.wrappedBuffer(msg.getData()), seq);
        try {
            synchronized (state) {
                for (Pending p : state.pending) {
                    if (p.open) {
                        p.frames.add(frame.retainedDuplicate());
                        p.offsets.add(seq);
                    }
                }
            }
            hub.publishFrame(audience, topic, frame, seq);
        } finally {
            frame.release();
        }
    }

    private TopicState state(String audience, String topic) {
        return topics.computeIfAbsent(audience, a -> new ConcurrentHashMap<>()).computeIfAbsent(topic, TopicState::new);
    }

    // ---- subscribing (the subscriber's event loop, then the reads pool) ----

    /** Also joins this node's interest in the topic: paired with the broker's leave at unsubscribe or close. */
    @Override
    public CompletionStage<Recovery> subscribe(Subscriber s, String topic, Position since) {
        String audience = s.audience();
        TopicState state = state(audience, topic);
        Pending pending = new Pending();
        synchronized (state) {
            state.pending.add(pending);
        }
        hub.subscribe(s, topic, Long.MAX_VALUE); // muted until live()
        HistorySettings settings = hub.topics().history(audience, topic);
        CompletableFuture<Recovery> answer = broker.join(audience, topic)
                .thenApplyAsync(joined -> recover(audience, topic, settings, since, pending), reads)
                .toCompletableFuture();
        answer.whenComplete((r, error) -> {
            if (error != null) {
                close(state, pending);
            }
        });
        return answer;
    }

    private Recovery recover(String audience, String topic, HistorySettings settings, Position since, Pending pending) {
        JetStreamManagement m = jsm;
        String e = epoch;
        if (m == null || e == null || !broker.isUp()) {
            throw new CompletionException(
                    new CourierException(ErrorCode.ECLUSTER_UNAVAILABLE, "NATS or JetStream is unreachable"));
        }
        String subject = Subjects.stored(audience, topic);
        try {
            MessageInfo last = message(() -> m.getLastMessage(STREAM, subject));
            long position = last != null ? last.getSeq() : mark(subject);
            Position at = new Position(position, e);
            if (since == null) {
                return new Recovery(at, null, List.of(), pending);
            }
            List<ByteBuf> replay = replay(m, subject, state(audience, topic).prefix, settings, since, position, e);
            return new Recovery(at, replay != null, replay == null ? List.of() : replay, pending);
        } catch (IOException | JetStreamApiException ex) {
            throw new CompletionException(new CourierException(
                    ErrorCode.ECLUSTER_UNAVAILABLE, "cannot read the history: " + ex.getMessage()));
        }
    }

    /**
     * The frames after {@code since} up to {@code position}, or null when they cannot all be served:
     * another epoch, an offset never handed out, one evicted (by the stream or this topic's own
     * size and TTL), or more than the recovery limit.
     */
    private List<ByteBuf> replay(
            JetStreamManagement m,
            String subject,
            byte[] prefix,
            HistorySettings settings,
            Position since,
            long position,
            String e)
            throws IOException, JetStreamApiException {
        if (!e.equals(since.epoch()) || since.offset() > position) {
            return null;
        }
        if (since.offset() == position) {
            return List.of();
        }
        MessageInfo first = message(() -> m.getFirstMessage(STREAM, subject));
        if (first == null || first.getSeq() > since.offset()) {
            return null; // the oldest kept comes after the client's: something between may be gone
        }
        int limit = Math.min(settings.size(), config.recoveryLimit());
        Instant oldestAllowed = Instant.now().minusSeconds(settings.ttlSeconds());
        List<MessageInfo> missed = new ArrayList<>();
        for (long seq = since.offset() + 1; seq <= position; ) {
            long from = seq;
            MessageInfo next = message(() -> m.getNextMessage(STREAM, from, subject));
            if (next == null || next.getSeq() > position) {
                break;
            }
            if (next.getHeaders() == null || next.getHeaders().getFirst(MARKER) == null) {
                if (missed.size() == limit
                        || (missed.isEmpty() && next.getTime().toInstant().isBefore(oldestAllowed))) {
                    return null; // too far behind, or the first one missed is past the topic's TTL
                }
                missed.add(next);
            }
            seq = next.getSeq() + 1;
        }
        List<ByteBuf> frames = new ArrayList<>(missed.size());
        for (MessageInfo mi : missed) {
            frames.add(Frames.frameWithOffset(alloc, prefix, Unpooled.wrappedBuffer(mi.getData()), mi.getSeq()));
        }
        return frames;
    }

    /** Stores a marker so an empty topic's position is a stored message; returns its sequence. */
    private long mark(String subject) throws IOException, JetStreamApiException {
        Headers headers = new Headers();
        headers.put(MARKER, "1");
        return js.publish(subject, headers, new byte[0]).getSeqno();
    }

    @Override
    public List<ByteBuf> live(Subscriber s, String topic, Recovery recovery) {
        Pending pending = (Pending) recovery.handle();
        TopicState state = state(s.audience(), topic);
        List<ByteBuf> after = new ArrayList<>();
        long through = recovery.position().offset();
        synchronized (state) {
            pending.open = false;
            state.pending.remove(pending);
            Iterator<Long> offsets = pending.offsets.iterator();
            for (ByteBuf frame : pending.frames) {
                long offset = offsets.next();
                if (offset > through) {
                    after.add(frame);
                    through = offset;
                } else {
                    frame.release();
                }
            }
            pending.frames.clear();
            pending.offsets.clear();
        }
        hub.deliverFrom(s, topic, through);
        return after;
    }

    private void close(TopicState state, Pending pending) {
        synchronized (state) {
            pending.open = false;
            state.pending.remove(pending);
            pending.frames.forEach(ByteBuf::release);
            pending.frames.clear();
            pending.offsets.clear();
        }
    }

    // ---- reading for backends (the reads pool) ----

    @Override
    public CompletionStage<Page> read(String audience, String topic, long since, int limit) {
        HistorySettings settings = hub.topics().history(audience, topic);
        return CompletableFuture.supplyAsync(() -> readNow(audience, topic, settings, since, limit), reads);
    }

    /** The topic's own window (its last {@code size} messages within its TTL) after {@code since}. */
    private Page readNow(String audience, String topic, HistorySettings settings, long since, int limit) {
        JetStreamManagement m = jsm;
        String e = epoch;
        if (m == null || e == null) {
            throw new CompletionException(
                    new CourierException(ErrorCode.ECLUSTER_UNAVAILABLE, "NATS or JetStream is unreachable"));
        }
        String subject = Subjects.stored(audience, topic);
        Instant oldestAllowed = Instant.now().minusSeconds(settings.ttlSeconds());
        ArrayDeque<MessageInfo> window = new ArrayDeque<>();
        try {
            for (long seq = 1; ; ) {
                long from = seq;
                MessageInfo next = message(() -> m.getNextMessage(STREAM, from, subject));
                if (next == null) {
                    break;
                }
                seq = next.getSeq() + 1;
                if ((next.getHeaders() != null && next.getHeaders().getFirst(MARKER) != null)
                        || next.getTime().toInstant().isBefore(oldestAllowed)) {
                    continue;
                }
                window.add(next);
                if (window.size() > settings.size()) {
                    window.poll();
                }
            }
        } catch (IOException | JetStreamApiException ex) {
            throw new CompletionException(new CourierException(
                    ErrorCode.ECLUSTER_UNAVAILABLE, "cannot read the history: " + ex.getMessage()));
        }
        List<Publication> out = new ArrayList<>();
        for (MessageInfo mi : window) {
            if (mi.getSeq() > since && out.size() < limit) {
                out.add(new Publication(mi.getSeq(), Unpooled.wrappedBuffer(mi.getData())));
            }
        }
        return new Page(e, out);
    }

    // ---- helpers ----

    @FunctionalInterface
    private interface Get {
        MessageInfo get() throws IOException, JetStreamApiException;
    }

    /** The message, or null when the stream has none there (API error 10037). */
    private static MessageInfo message(Get get) throws IOException, JetStreamApiException {
        try {
            return get.get();
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == NO_MESSAGE) {
                return null;
            }
            throw e;
        }
    }

    /** A header's number, or -1. */
    static long number(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Stops the reads pool. */
    public void close() {
        reads.shutdownNow();
    }

    /** For tests: the epoch, once the stream is known. */
    public String epoch() {
        return epoch;
    }
}
