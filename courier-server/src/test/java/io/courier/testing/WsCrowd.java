package io.courier.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Many WebSocket connections on a few Netty event loops, for load tests where the JDK client is too
 * heavy (it costs about 100 KB and a selector per socket). Connections are numbered from 0 in the
 * order {@link #open} makes them; each opens with Netty's {@link WebSocketClientHandshaker}, at
 * most {@code maxInFlight} handshakes at a time, and counts as open once Courier's
 * {@code connected} frame arrives. After that a connection keeps only its number: what it receives
 * is counted in arrays shared by the crowd,
 * <ul>
 *   <li>{@code connected} frames,</li>
 *   <li>frames byte-for-byte equal to the one set with {@link #expect},</li>
 *   <li>anything else (another text frame, a binary or close frame), the first few kept as samples.</li>
 * </ul>
 * Pings are answered with pongs, so the server's keepalive never closes an idle member.
 * Counters are atomic and readable from any thread; handlers run on the crowd's event loops only.
 */
public final class WsCrowd implements AutoCloseable {
    private static final int MAX_FRAME_BYTES = 65_536;
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final int SAMPLES = 10;
    private static final byte[] CONNECTED = "{\"action\":\"connected\",".getBytes(StandardCharsets.US_ASCII);

    private final InetSocketAddress server;
    private final String wsUrl;
    private final EventLoopGroup group;
    private final int capacity;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicReferenceArray<Channel> channels;
    private final AtomicIntegerArray connectedFrames;
    private final AtomicIntegerArray expectedFrames;
    private final AtomicIntegerArray unexpectedFrames;
    private final AtomicLongArray handshakeNanos;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger lost = new AtomicInteger();
    private final Queue<String> unexpectedSamples = new ConcurrentLinkedQueue<>();
    private volatile byte[] expected = new byte[0];
    private volatile boolean closing;

    /**
     * @param capacity how many connections this crowd will ever open (the counters are sized for them)
     * @param threads  event loops shared by every connection
     */
    public WsCrowd(int port, int capacity, int threads) {
        this.server = new InetSocketAddress("127.0.0.1", port);
        this.wsUrl = "ws://127.0.0.1:" + port + "/ws?token=";
        this.capacity = capacity;
        this.group = new MultiThreadIoEventLoopGroup(
                threads, new DefaultThreadFactory("ws-crowd", true), NioIoHandler.newFactory());
        this.channels = new AtomicReferenceArray<>(capacity);
        this.connectedFrames = new AtomicIntegerArray(capacity);
        this.expectedFrames = new AtomicIntegerArray(capacity);
        this.unexpectedFrames = new AtomicIntegerArray(capacity);
        this.handshakeNanos = new AtomicLongArray(capacity);
    }

    /**
     * Opens {@code count} connections with the signed {@code key}, at most {@code maxInFlight}
     * handshakes at a time, and returns once every one has received its {@code connected} frame.
     * Fails when any handshake fails or they do not all complete within {@code timeout}.
     *
     * @return the number of the first connection opened; the others follow it
     */
    public int open(String key, int count, int maxInFlight, Duration timeout) {
        int first = next.getAndAdd(count);
        if (first + count > capacity) {
            throw new IllegalArgumentException(
                    "count: " + count + " (expected: at most " + (capacity - first) + " more in this crowd)");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Batch batch = new Batch(maxInFlight);
        URI uri = URI.create(wsUrl + key);
        for (int i = first; i < first + count; i++) {
            if (!batch.acquire(1, deadline)) {
                throw new AssertionError(
                        (i - first) + " of " + count + " handshakes started within " + timeout + "; " + batch);
            }
            connect(uri, i, batch);
        }
        if (!batch.acquire(maxInFlight, deadline)) {
            throw new AssertionError("not all of " + count + " handshakes completed within " + timeout + "; " + batch);
        }
        if (batch.failed.get() > 0) {
            throw new AssertionError(batch.failed.get() + " of " + count + " handshakes failed; " + batch);
        }
        return first;
    }

    /** Frames equal to this text (UTF-8) count as expected from now on. */
    public void expect(String frame) {
        expected = frame.getBytes(StandardCharsets.UTF_8);
    }

    /** Connections opened so far (all of them completed their handshake). */
    public int size() {
        return Math.min(next.get(), capacity);
    }

    /** Connections open now: opened, and neither closed by {@link #close} nor lost. */
    public int openConnections() {
        return open.get();
    }

    /** Connections that ended before {@link #close}: the server closed them or the network failed. */
    public int lostConnections() {
        return lost.get();
    }

    public int connectedFrames(int connection) {
        return connectedFrames.get(connection);
    }

    public int expectedFrames(int connection) {
        return expectedFrames.get(connection);
    }

    public int unexpectedFrames(int connection) {
        return unexpectedFrames.get(connection);
    }

    /** From the start of the TCP connect to the {@code connected} frame. */
    public Duration handshakeTime(int connection) {
        return Duration.ofNanos(handshakeNanos.get(connection));
    }

    /** Expected frames received by all connections together. */
    public long expectedTotal() {
        long total = 0;
        for (int i = 0; i < size(); i++) {
            total += expectedFrames.get(i);
        }
        return total;
    }

    /** The first few unexpected frames, e.g. {@code 17: close 1008 slow consumer}. */
    public List<String> unexpectedSamples() {
        return new ArrayList<>(unexpectedSamples);
    }

    private void connect(URI uri, int index, Batch batch) {
        WebSocketClientHandshaker handshaker = WebSocketClientHandshakerFactory.newHandshaker(
                uri, WebSocketVersion.V13, null, false, EmptyHttpHeaders.INSTANCE, MAX_FRAME_BYTES);
        Member member = new Member(index, System.nanoTime(), batch);
        ChannelFuture connect = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast("http", new HttpClientCodec())
                                .addLast("aggregator", new HttpObjectAggregator(8192))
                                .addLast("handshake", new Handshake(handshaker, member));
                    }
                })
                .connect(server);
        channels.set(index, connect.channel());
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                member.failed("connect: " + f.cause());
            }
        });
    }

    private void sample(int index, String what) {
        if (unexpectedSamples.size() < SAMPLES) {
            unexpectedSamples.add(index + ": " + (what.length() > 200 ? what.substring(0, 200) + "..." : what));
        }
    }

    /**
     * Closes every connection (TCP close, no close frame: the server counts it as the client's) and
     * stops the event loops. Bounded: gives up waiting after 30 s.
     */
    @Override
    public void close() {
        closing = true;
        for (int i = 0; i < size(); i++) {
            Channel ch = channels.getAndSet(i, null);
            if (ch != null) {
                ch.close();
            }
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(30, TimeUnit.SECONDS);
    }

    /** Permits for the handshakes of one {@link #open} call, and how they ended. */
    private static final class Batch {
        private final Semaphore inFlight;
        private final AtomicInteger succeeded = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        private final Queue<String> firstFailures = new ConcurrentLinkedQueue<>();

        Batch(int maxInFlight) {
            inFlight = new Semaphore(maxInFlight);
        }

        boolean acquire(int permits, long deadlineNanos) {
            try {
                return inFlight.tryAcquire(
                        permits, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        void succeeded() {
            succeeded.incrementAndGet();
            inFlight.release();
        }

        void failed(int index, String why) {
            if (failed.incrementAndGet() <= 5) {
                firstFailures.add("connection " + index + ": " + why);
            }
            inFlight.release();
        }

        @Override
        public String toString() {
            return succeeded + " succeeded, " + failed + " failed"
                    + (firstFailures.isEmpty() ? "" : ", first: " + firstFailures);
        }
    }

    /** One connection's handshake: settles its batch permit exactly once. Event loop only. */
    private final class Member {
        private final int index;
        private final long startNanos;
        private Batch batch;

        Member(int index, long startNanos, Batch batch) {
            this.index = index;
            this.startNanos = startNanos;
            this.batch = batch;
        }

        boolean pending() {
            return batch != null;
        }

        void connected() {
            handshakeNanos.set(index, System.nanoTime() - startNanos);
            open.incrementAndGet();
            batch.succeeded();
            batch = null;
        }

        void failed(String why) {
            if (batch != null) {
                batch.failed(index, why);
                batch = null;
            }
        }
    }

    /**
     * The HTTP part: sends the upgrade, checks the 101, then puts a {@link Counter} in its place.
     * After {@code finishHandshake} the HTTP codec leaves a moment later and hands on any bytes that
     * came with the 101 (Courier's {@code connected} frame usually does).
     */
    private final class Handshake extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final WebSocketClientHandshaker handshaker;
        private final Member member;

        Handshake(WebSocketClientHandshaker handshaker, Member member) {
            this.handshaker = handshaker;
            this.member = member;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            handshaker.handshake(ctx.channel()).addListener(f -> {
                if (!f.isSuccess()) {
                    member.failed("sending the upgrade: " + f.cause());
                    ctx.close();
                }
            });
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            try {
                handshaker.finishHandshake(ctx.channel(), response);
            } catch (WebSocketHandshakeException e) {
                member.failed("HTTP " + response.status().code() + " "
                        + response.content().toString(StandardCharsets.UTF_8));
                ctx.close();
                return;
            }
            ctx.pipeline().addAfter(ctx.name(), "counter", new Counter(member));
            ctx.pipeline().remove(this);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            member.failed("closed during the handshake");
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            member.failed(cause.toString());
            ctx.close();
        }
    }

    /** Counts what one open connection receives. Event loop only. */
    private final class Counter extends ChannelInboundHandlerAdapter {
        private final Member member;

        Counter(Member member) {
            this.member = member;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof TextWebSocketFrame text) {
                    onText(ctx, text.content());
                } else if (msg instanceof PingWebSocketFrame ping) {
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                } else if (msg instanceof CloseWebSocketFrame close) {
                    unexpected("close " + close.statusCode() + " " + close.reasonText());
                    ctx.close();
                } else if (!(msg instanceof PongWebSocketFrame)) {
                    unexpected(msg.getClass().getSimpleName());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void onText(ChannelHandlerContext ctx, ByteBuf text) {
            if (startsWith(text, CONNECTED)) {
                connectedFrames.incrementAndGet(member.index);
                if (member.pending()) {
                    member.connected();
                }
            } else if (member.pending()) {
                member.failed("first frame not 'connected': " + text.toString(StandardCharsets.UTF_8));
                ctx.close();
            } else if (equalsExpected(text)) {
                expectedFrames.incrementAndGet(member.index);
            } else {
                unexpected(text.toString(StandardCharsets.UTF_8));
            }
        }

        private void unexpected(String what) {
            unexpectedFrames.incrementAndGet(member.index);
            sample(member.index, what);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (member.pending()) {
                member.failed("closed before the connected frame");
            } else {
                open.decrementAndGet();
                if (!closing) {
                    lost.incrementAndGet();
                }
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            unexpected("exception " + cause);
            ctx.close();
        }
    }

    private static boolean startsWith(ByteBuf buf, byte[] prefix) {
        if (buf.readableBytes() < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(buf.readerIndex() + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean equalsExpected(ByteBuf buf) {
        byte[] want = expected;
        return buf.readableBytes() == want.length && startsWith(buf, want);
    }
}
