package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.util.concurrent.Promise;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A subscriber's whole inbound pipeline after the handshake: walks RFC 6455 frame headers in the raw
 * bytes and checks every publish delivery without building a frame object per message. Subscribers
 * share the cores with the server under test, so this is the one client cost that scales with fan-out.
 *
 * <p>The payload of each data frame goes to the target's {@link Target.SubscriberProtocol}, which
 * finds the deliveries in it (for Courier by the first letter of the frame's action, see
 * {@link CourierTarget}) and hands each one's {@link Publication} back to {@link #delivery}, so reading
 * the publisher and sequence costs a few dozen byte reads whatever the target.
 *
 * <p>Each subscriber counts deliveries per publisher and any that arrive out of sequence; the run
 * compares the counts with what each publisher had acknowledged once the event loops have stopped.
 * Lifecycle: the protocol subscribes (when given a topic) and reports ready once the server has the
 * subscription. Event loop only (one instance per channel), except {@link #delivered()}, which the run
 * polls.
 */
final class DeliveryDecoder extends ByteToMessageDecoder implements Target.SubscriberProtocol.Events {
    private final Deliveries deliveries;
    private final Target.SubscriberProtocol protocol;
    private final int topicIndex;
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
    /** Deliveries found in the current read. */
    private long published;

    /**
     * @param protocol   the target's protocol, set up with the topic to subscribe to (or none to stay idle)
     * @param slow       a subscriber that will stop reading: its deliveries stay out of the run's
     *                   totals and latency, which describe the subscribers that keep up
     * @param publishers publisher ids are below this
     */
    DeliveryDecoder(
            Deliveries deliveries,
            Target.SubscriberProtocol protocol,
            int topicIndex,
            boolean slow,
            int publishers,
            Promise<Void> ready) {
        this.deliveries = deliveries;
        this.protocol = protocol;
        this.topicIndex = topicIndex;
        this.slow = slow;
        this.ready = ready;
        this.fromPublisher = new long[publishers];
        this.nextSeq = new long[publishers];
        // Spread the sampled messages over subscribers instead of sampling the same publish everywhere.
        this.untilSample = ThreadLocalRandom.current().nextInt(deliveries.sampleEvery());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        protocol.opened(ctx.channel());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        published = 0;
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
                case 0x0, 0x1, 0x2 -> protocol.data(ctx.channel(), b0 & 0x0F, in, payload, payload + size, this);
                case 0x8 -> {
                    closeCode = size >= 2 ? in.getUnsignedShort(payload) : 1005;
                    deliveries.closeFrame(closeCode);
                }
                case 0x9 -> ctx.channel().writeAndFlush(new PongWebSocketFrame(in.retainedSlice(payload, size)));
                default -> {} // pong
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

    @Override
    public void delivery(ByteBuf in, int from, int to) {
        published++;
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

    @Override
    public void broadcast() {
        broadcasts++;
    }

    @Override
    public void ready() {
        ready.trySuccess(null);
    }

    @Override
    public void failed(String why) {
        ready.tryFailure(new IllegalStateException(why));
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
        protocol.release();
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
