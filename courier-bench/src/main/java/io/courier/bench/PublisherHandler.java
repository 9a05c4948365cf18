package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The one publisher: sends {@code {"action":"publish",...,"id":n,"message":{"seq":n,"t":nanoTime,"pad":"..."}}}
 * for a fixed time, at a fixed rate or as fast as its bounds allow, and counts the replies.
 *
 * <p>Two bounds keep "as fast as possible" honest. At most {@code window} publishes wait for their
 * ack. And since Courier acks a publish once it is queued for fan-out, not once delivered, at most
 * {@code maxLag} messages per subscriber may be published but not yet received; without that the
 * publisher outruns the fan-out, the server's queues grow and subscribers are cut off as slow
 * consumers. Replies arrive in order on one connection, so reply n belongs to publish n.
 * Event loop only, apart from {@link #start} and the {@link #done} promise.
 */
final class PublisherHandler extends ChannelInboundHandlerAdapter {
    /** What the publisher did; read by the main thread once {@link #done} completes. */
    record Result(long sent, long acked, long errors, long[] ackedPerTopic, long firstPublishNanos, long lastPublishNanos,
                  String firstError, Stalls stalls) {
    }

    /**
     * Seconds the publisher could not send, by the bound that stopped it: which one set the pace. The
     * time between two sending attempts is charged to the bound that ended the first.
     */
    record Stalls(double windowFullSeconds, double lagBoundSeconds, double rateSeconds) {
    }

    private static final int WINDOW = 0;
    private static final int LAG = 1;
    private static final int RATE = 2;

    private static final int ACTION_AT = "{\"action\":\"".length();
    /** How often a publisher held back by the rate or the lag bound looks again. */
    private static final long RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final Promise<Void> ready;
    private final Promise<Result> done;
    private final Deliveries deliveries;
    private final String[] topics;
    private final int sizeBytes;
    private final int window;
    private final int rate;
    private final int maxLagMessages;
    private final StringBuilder scratch = new StringBuilder(256);

    // Event loop only.
    private ChannelHandlerContext ctx;
    private long[] subscribersPerTopic;
    private long[] ackedPerTopic;
    private long lagLimit;
    private long sent;
    private long replies;
    private long errors;
    private long expectedSoFar;
    private long firstNanos;
    private long lastNanos;
    private long stopAtNanos;
    private boolean started;
    private boolean retryScheduled;
    private String firstError;
    private final long[] stalledNanos = new long[3];
    private int stoppedBy = -1;
    private long lastAttemptNanos;

    PublisherHandler(Promise<Void> ready, Promise<Result> done, Deliveries deliveries, String[] topics, LoadOptions options) {
        this.ready = ready;
        this.done = done;
        this.deliveries = deliveries;
        this.topics = topics;
        this.sizeBytes = options.sizeBytes();
        this.window = options.window();
        this.rate = options.rate();
        this.maxLagMessages = options.maxLagMessages();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Any thread. Publishes for {@code durationNanos}; {@link #done} completes once the last reply is in. */
    void start(long[] subscribersPerTopic, long durationNanos) {
        long[] subscribers = subscribersPerTopic.clone();
        ctx.executor().execute(() -> {
            this.subscribersPerTopic = subscribers;
            this.ackedPerTopic = new long[topics.length];
            long total = 0;
            for (long n : subscribers) {
                total += n;
            }
            this.lagLimit = maxLagMessages == 0 ? Long.MAX_VALUE : Math.max(1, total / topics.length) * maxLagMessages;
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
        long outstanding = expectedSoFar - deliveries.received();
        long due = rate == 0 ? Long.MAX_VALUE : 1 + (now - firstNanos) * rate / 1_000_000_000L;
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
            int topic = (int) (sent % topics.length);
            ctx.write(new TextWebSocketFrame(frame(topic, sent, System.nanoTime())), ctx.voidPromise());
            sent++;
            long fanout = subscribersPerTopic[topic];
            expectedSoFar += fanout;
            outstanding += fanout;
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
            lastNanos = System.nanoTime();
        }
        // Acks wake a full window; nothing wakes a publisher held back by the clock or the lag bound.
        if (heldBack && !retryScheduled) {
            retryScheduled = true;
            ctx.executor().schedule(() -> {
                retryScheduled = false;
                pump();
            }, RETRY_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    private ByteBuf frame(int topic, long seq, long nowNanos) {
        StringBuilder s = scratch;
        s.setLength(0);
        s.append("{\"action\":\"publish\",\"topic\":\"").append(topics[topic]).append("\",\"id\":").append(seq).append(",\"message\":");
        int messageStart = s.length();
        s.append("{\"seq\":").append(seq).append(",\"t\":").append(nowNanos).append(",\"pad\":\"");
        int pad = sizeBytes - (s.length() - messageStart) - 2;
        for (int i = 0; i < pad; i++) {
            s.append('x');
        }
        s.append("\"}}");
        return ByteBufUtil.writeUtf8(ctx.alloc(), s);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!(msg instanceof TextWebSocketFrame text)) {
                return;
            }
            ByteBuf json = text.content();
            byte action = json.readableBytes() > ACTION_AT ? json.getByte(json.readerIndex() + ACTION_AT) : 0;
            if (action == 'c') {
                ready.trySuccess(null);
            } else if (action == 'a' || action == 'e') {
                int topic = (int) (replies % topics.length);
                replies++;
                if (action == 'a') {
                    ackedPerTopic[topic]++;
                } else if (errors++ == 0) {
                    firstError = json.toString(StandardCharsets.UTF_8);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
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
        done.trySuccess(new Result(sent, acked, errors, ackedPerTopic.clone(), firstNanos, lastNanos, firstError,
                new Stalls(stalledNanos[WINDOW] / 1e9, stalledNanos[LAG] / 1e9, stalledNanos[RATE] / 1e9)));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ready.tryFailure(new IllegalStateException("publisher closed before it was ready"));
        done.tryFailure(new IllegalStateException("publisher connection closed after " + sent + " publishes, " + replies + " replies"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ready.tryFailure(cause);
        done.tryFailure(cause);
        ctx.close();
    }
}
