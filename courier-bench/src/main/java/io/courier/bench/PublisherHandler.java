package io.courier.bench;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.TimeUnit;

/**
 * One publisher: sends a {@link Publication} in the target's publish frame (Courier's
 * {@code {"action":"publish","topic":...,"id":n,"message":PUBLICATION}}, see {@link Target}) round-robin
 * over its topics for a fixed time, at a fixed rate or as fast as its bounds allow, and counts the
 * acknowledgements.
 *
 * <p>Paced, it runs open loop: message n is due at {@code start + n / rate}, and that due time is
 * what the message carries, so when the publisher falls behind (window full, a slow event loop) the
 * delay is counted as latency instead of silently lowering the offered load.
 *
 * <p>Two bounds keep "as fast as possible" honest. At most {@code window} publishes wait for their
 * ack. And since Courier acks a publish once it is queued for fan-out, not once delivered, the
 * deliveries outstanding over all publishers (expected − received) stay under {@code lagLimit};
 * without that the publishers outrun the fan-out, the server's queues grow and subscribers are cut
 * off as slow consumers. Replies arrive in order on one connection, so reply n belongs to publish n
 * (a target may acknowledge several at once, NATS with one PONG). Event loop only, apart from {@link #start}, {@link #sendOne}, {@link #acked()} and {@link #done}.
 */
final class PublisherHandler extends ChannelInboundHandlerAdapter implements Target.PublisherProtocol.Replies {
    /** What the publisher did; read by the main thread once {@link #done} completes. */
    record Result(
            int publisher,
            int[] topics,
            long sent,
            long acked,
            long errors,
            long[] ackedPerTopic,
            long firstPublishNanos,
            long lastPublishNanos,
            String firstError,
            Stalls stalls) {}

    /**
     * Seconds the publisher could not send, by the bound that stopped it: which one set the pace. The
     * time between two sending attempts is charged to the bound that ended the first.
     */
    record Stalls(double windowFullSeconds, double lagBoundSeconds, double rateSeconds) {}

    private static final int WINDOW = 0;
    private static final int LAG = 1;
    private static final int RATE = 2;

    /** How often a publisher held back by the rate or the lag bound looks again. */
    private static final long RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final Target.PublisherProtocol protocol;
    private final Promise<Void> ready;
    private final Promise<Result> done;
    private final Deliveries deliveries;
    private final int publisher;
    private final int[] topicIndices;
    private final int topics;
    private final int sizeBytes;
    private final int window;
    private final double ratePerSecond;
    private final long lagLimit;
    private final StringBuilder scratch = new StringBuilder(256);
    private volatile long ackedSoFar;

    // Event loop only.
    private ChannelHandlerContext ctx;
    private long[] subscribersPerTopic;
    private final long[] ackedPerTopic;
    private final long[] seqPerTopic;
    private long sent;
    private long replies;
    private long errors;
    private long firstNanos;
    private long lastNanos;
    private long stopAtNanos;
    private boolean started;
    private boolean retryScheduled;
    private String firstError;
    private final long[] stalledNanos = new long[3];
    private int stoppedBy = -1;
    private long lastAttemptNanos;
    /** Publishes written since the last {@link Target.PublisherProtocol#afterBatch}. */
    private int unmarked;

    /**
     * @param publisher    this publisher's id, written into every message
     * @param topicIndices the run's indices of {@code topics}, for the result
     * @param ratePerSecond publishes per second, 0 for as fast as the bounds allow
     * @param lagLimit     deliveries outstanding over all publishers at most; Long.MAX_VALUE for no bound
     */
    PublisherHandler(
            Target.PublisherProtocol protocol,
            Promise<Void> ready,
            Promise<Result> done,
            Deliveries deliveries,
            int publisher,
            int[] topicIndices,
            int sizeBytes,
            int window,
            double ratePerSecond,
            long lagLimit) {
        this.protocol = protocol;
        this.ready = ready;
        this.done = done;
        this.deliveries = deliveries;
        this.publisher = publisher;
        this.topicIndices = topicIndices.clone();
        this.topics = topicIndices.length;
        this.sizeBytes = sizeBytes;
        this.window = window;
        this.ratePerSecond = ratePerSecond;
        this.lagLimit = lagLimit;
        this.ackedPerTopic = new long[topics];
        this.seqPerTopic = new long[topics];
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        protocol.opened(ctx.channel());
    }

    /**
     * Any thread. Publishes for {@code durationNanos}; {@link #done} completes once the last reply is in.
     *
     * @param subscribersPerTopic for each of this publisher's topics, the subscribers that keep reading
     */
    void start(long[] subscribersPerTopic, long durationNanos) {
        long[] subscribers = subscribersPerTopic.clone();
        ctx.executor().execute(() -> {
            this.subscribersPerTopic = subscribers;
            this.started = true;
            this.firstNanos = System.nanoTime();
            this.stopAtNanos = firstNanos + durationNanos;
            ctx.executor().schedule(this::pump, durationNanos, TimeUnit.NANOSECONDS);
            pump();
        });
    }

    Promise<Result> done() {
        return done;
    }

    /** Any thread: publishes acknowledged so far. */
    long acked() {
        return ackedSoFar;
    }

    /**
     * Any thread, for a publisher that was not {@link #start}ed: writes one publish to its first topic
     * now; the returned future gives the System.nanoTime it was written at.
     */
    Future<Long> sendOne(long subscribers) {
        Promise<Long> written = ctx.executor().newPromise();
        ctx.executor().execute(() -> {
            long now = System.nanoTime();
            ctx.write(frame(0, deliveries.toMicros(now)), ctx.voidPromise());
            sent++;
            protocol.afterBatch(ctx.channel(), sent);
            ctx.flush();
            deliveries.expect(subscribers);
            written.setSuccess(now);
        });
        return written;
    }

    private void pump() {
        if (!started || done.isDone()) {
            return;
        }
        long now = System.nanoTime();
        if (now >= stopAtNanos) {
            finishWhenAnswered();
            return;
        }
        if (stoppedBy >= 0) {
            stalledNanos[stoppedBy] += now - lastAttemptNanos;
        }
        lastAttemptNanos = now;
        // Summing the adders costs a walk over their cells; a paced publisher has no lag bound to check.
        long outstanding = lagLimit == Long.MAX_VALUE ? 0 : deliveries.expected() - deliveries.received();
        long due = ratePerSecond == 0 ? Long.MAX_VALUE : 1 + (long) ((now - firstNanos) * ratePerSecond / 1e9);
        boolean wrote = false;
        boolean heldBack = false;
        while (true) {
            if (sent - replies >= window) {
                stoppedBy = WINDOW;
                break;
            }
            if (sent >= due || outstanding > lagLimit) {
                stoppedBy = sent >= due ? RATE : LAG;
                heldBack = true;
                break;
            }
            int topic = (int) (sent % topics);
            long dueMicros = deliveries.toMicros(
                    ratePerSecond == 0 ? System.nanoTime() : firstNanos + (long) (sent * 1e9 / ratePerSecond));
            ctx.write(frame(topic, dueMicros), ctx.voidPromise());
            sent++;
            long fanout = subscribersPerTopic[topic];
            deliveries.expect(fanout);
            outstanding += fanout;
            wrote = true;
            // A target that acknowledges batches (NATS: one PONG per PING) gets a mark every quarter
            // window, so that acks return while the window is still open instead of once it is full.
            if (++unmarked >= Math.max(1, window / 4)) {
                protocol.afterBatch(ctx.channel(), sent);
                unmarked = 0;
            }
        }
        if (wrote) {
            if (unmarked > 0) {
                protocol.afterBatch(ctx.channel(), sent);
                unmarked = 0;
            }
            ctx.flush();
            lastNanos = System.nanoTime();
        }
        // Acks wake a full window; nothing wakes a publisher held back by the clock or the lag bound.
        if (heldBack && !retryScheduled) {
            retryScheduled = true;
            ctx.executor()
                    .schedule(
                            () -> {
                                retryScheduled = false;
                                pump();
                            },
                            RETRY_NANOS,
                            TimeUnit.NANOSECONDS);
        }
    }

    private WebSocketFrame frame(int topic, long dueMicros) {
        StringBuilder s = scratch;
        s.setLength(0);
        Publication.write(s, publisher, seqPerTopic[topic]++, dueMicros, sizeBytes);
        return protocol.publish(ctx.alloc(), topic, sent, s);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof WebSocketFrame frame) {
                protocol.read(ctx.channel(), frame, this);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void ready() {
        ready.trySuccess(null);
    }

    @Override
    public void acked(long n) {
        for (long k = 0; k < n; k++) {
            ackedPerTopic[(int) (replies % topics)]++;
            replies++;
        }
        ackedSoFar = ackedSoFar + n; // one writer: this loop
    }

    @Override
    public void refused(String text) {
        replies++;
        if (errors++ == 0) {
            firstError = text;
        }
    }

    @Override
    public void failed(String text) {
        if (firstError == null) {
            firstError = text;
        }
        ready.tryFailure(new IllegalStateException(text));
        ctx.close();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        pump();
        ctx.fireChannelReadComplete();
    }

    private void finishWhenAnswered() {
        if (replies < sent) {
            return; // the next reply calls pump() again
        }
        long acked = 0;
        for (long n : ackedPerTopic) {
            acked += n;
        }
        done.trySuccess(new Result(
                publisher,
                topicIndices.clone(),
                sent,
                acked,
                errors,
                ackedPerTopic.clone(),
                firstNanos,
                lastNanos,
                firstError,
                new Stalls(stalledNanos[WINDOW] / 1e9, stalledNanos[LAG] / 1e9, stalledNanos[RATE] / 1e9)));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        protocol.release();
        ready.tryFailure(new IllegalStateException("publisher closed before it was ready"));
        done.tryFailure(new IllegalStateException(
                "publisher connection closed after " + sent + " publishes, " + replies + " replies"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ready.tryFailure(cause);
        done.tryFailure(cause);
        ctx.close();
    }
}
