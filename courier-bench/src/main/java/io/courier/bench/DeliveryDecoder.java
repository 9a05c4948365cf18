package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A subscriber's whole inbound pipeline after the handshake: walks RFC 6455 frame headers in the raw
 * bytes and checks every publish delivery without building a frame object per message. Subscribers
 * share the cores with the server under test, so this is the one client cost that scales with fan-out.
 *
 * <p>It tells the server's frames apart by the first letter of their action ({@code p} publish,
 * {@code c} connected, {@code a} ack, {@code e} error, {@code b} broadcast) and finds a delivery's
 * {@link Publication} through {@link ServerFrame}: a byte comparison with the prefix the server writes
 * today, JSON parsing for any other field order, so reading the publisher and sequence costs a few
 * dozen byte reads and does not depend on that order.
 *
 * <p>Each subscriber counts deliveries per publisher and any that arrive out of sequence; the run
 * compares the counts with what each publisher had acknowledged once the event loops have stopped.
 * Lifecycle: on {@code connected} it subscribes (when given a topic) and completes {@code ready} on
 * the ack; with no topic, on {@code connected}. Event loop only (one instance per channel), except
 * {@link #delivered()}, which the run polls.
 */
final class DeliveryDecoder extends ByteToMessageDecoder {
    private final Deliveries deliveries;
    private final String topic;
    private final int topicIndex;
    private final ByteBuf publishPrefix;
    private final boolean slow;
    private final Promise<Void> ready;
    private final long[] fromPublisher;
    private final long[] nextSeq;
    private final long[] message = new long[3];
    private final byte[] header = new byte[Publication.HEADER_BYTES];
    private long outOfSequence;
    private long broadcasts;
    private long unreadable;
    private volatile long delivered;
    private volatile long closedAtNanos;
    private volatile int closeCode;
    private int untilSample;
    private boolean stalled;

    /**
     * @param topic      the topic to subscribe to once connected, or null to stay idle
     * @param slow       a subscriber that will stop reading: its deliveries stay out of the run's
     *                   totals and latency, which describe the subscribers that keep up
     * @param publishers publisher ids are below this
     */
    DeliveryDecoder(
            Deliveries deliveries, String topic, int topicIndex, boolean slow, int publishers, Promise<Void> ready) {
        this.deliveries = deliveries;
        this.topic = topic;
        this.topicIndex = topicIndex;
        this.slow = slow;
        this.ready = ready;
        this.publishPrefix = ServerFrame.publishPrefix(topic == null ? "" : topic);
        this.fromPublisher = new long[publishers];
        this.nextSeq = new long[publishers];
        // Spread the sampled messages over subscribers instead of sampling the same publish everywhere.
        this.untilSample = ThreadLocalRandom.current().nextInt(deliveries.sampleEvery());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        long published = 0;
        for (; ; ) {
            int start = in.readerIndex();
            int readable = in.readableBytes();
            if (readable < 2) {
                break;
            }
            int b0 = in.getUnsignedByte(start);
            int b1 = in.getUnsignedByte(start + 1);
            // RFC 6455 section 5.1: a server MUST NOT mask any frames that it sends to the client.
            if ((b1 & 0x80) != 0) {
                in.skipBytes(readable);
                ctx.close();
                break;
            }
            int header = 2;
            long length = b1 & 0x7F;
            if (length == 126) {
                if (readable < 4) {
                    break;
                }
                length = in.getUnsignedShort(start + 2);
                header = 4;
            } else if (length == 127) {
                if (readable < 10) {
                    break;
                }
                length = in.getLong(start + 2);
                header = 10;
            }
            if (readable < header + length) {
                break;
            }
            int payload = start + header;
            int size = (int) length;
            switch (b0 & 0x0F) {
                case 0x1 -> {
                    byte action = ServerFrame.action(in, payload, payload + size);
                    if (action == 'p') {
                        published++;
                        onDelivery(
                                in, ServerFrame.messageAt(in, payload, payload + size, publishPrefix), payload + size);
                    } else if (action == 'b') {
                        broadcasts++;
                    } else {
                        onReply(ctx, in, action, payload, size);
                    }
                }
                case 0x8 -> {
                    closeCode = size >= 2 ? in.getUnsignedShort(payload) : 1005;
                    deliveries.closeFrame(closeCode);
                }
                case 0x9 -> ctx.channel().writeAndFlush(new PongWebSocketFrame(in.retainedSlice(payload, size)));
                default -> {} // pong, binary, continuation: Courier sends none we need
            }
            in.readerIndex(payload + size);
        }
        if (published > 0) {
            delivered = delivered + published; // one writer: this loop
            if (!slow) {
                deliveries.add(published);
                deliveries.arrived();
            }
        }
    }

    private void onDelivery(ByteBuf in, int from, int to) {
        if (from < 0 || !Publication.read(in, from, to, header, message) || message[0] >= fromPublisher.length) {
            unreadable++;
            return;
        }
        int publisher = (int) message[0];
        fromPublisher[publisher]++;
        if (message[1] != nextSeq[publisher]) {
            outOfSequence++;
        }
        nextSeq[publisher] = message[1] + 1;
        if (slow) {
            return;
        }
        if (--untilSample < 0) {
            untilSample = deliveries.sampleEvery() - 1;
            deliveries.recordLatencyMicros(deliveries.nowMicros() - message[2]);
        }
    }

    private void onReply(ChannelHandlerContext ctx, ByteBuf in, byte action, int payload, int size) {
        if (action == 'c') {
            if (topic == null) {
                ready.trySuccess(null);
            } else {
                ctx.channel()
                        .writeAndFlush(new TextWebSocketFrame(
                                "{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":1}"));
            }
        } else if (action == 'a') {
            ready.trySuccess(null);
        } else if (action == 'e') {
            ready.tryFailure(new IllegalStateException(in.toString(payload, size, StandardCharsets.UTF_8)));
        }
    }

    /**
     * Stops reading for good, as a client that hangs would: the kernel's buffers fill and the server
     * has to deal with it. Event loop only.
     */
    void stall(ChannelHandlerContext ctx) {
        stalled = true;
        ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (stalled) {
            // ByteToMessageDecoder asks for another read when a read produced no message and auto-read
            // is off, which this decoder (it never produces one) would turn into reading forever.
            ctx.fireChannelReadComplete();
            return;
        }
        super.channelReadComplete(ctx);
    }

    /** Any thread: deliveries so far. */
    long delivered() {
        return delivered;
    }

    int topicIndex() {
        return topicIndex;
    }

    boolean slow() {
        return slow;
    }

    /** When the connection ended (System.nanoTime), or 0 while open. Any thread. */
    long closedAtNanos() {
        return closedAtNanos;
    }

    /** The server's close code, or 0 when it sent none. Any thread. */
    int closeCode() {
        return closeCode;
    }

    /** Read only after the subscriber's event loop has terminated. */
    long fromPublisher(int publisher) {
        return fromPublisher[publisher];
    }

    /** Broadcast frames received. Read only after the subscriber's event loop has terminated. */
    long broadcasts() {
        return broadcasts;
    }

    /** Read only after the subscriber's event loop has terminated. */
    long outOfSequence() {
        return outOfSequence;
    }

    /** Read only after the subscriber's event loop has terminated. */
    long unreadable() {
        return unreadable;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closedAtNanos = System.nanoTime();
        deliveries.disconnected();
        ready.tryFailure(new IllegalStateException("closed by the server before it was ready"));
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ready.tryFailure(cause);
        ctx.close();
    }
}
