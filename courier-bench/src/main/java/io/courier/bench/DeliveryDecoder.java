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
 * bytes and counts publish deliveries without building a frame object per message. Subscribers share
 * the cores with the server under test, so this is the one client cost that scales with fan-out.
 *
 * <p>It recognises the server's own frames by the first byte of the action value: Courier writes
 * {@code {"action":"} first in every frame it sends (see the server's {@code Frames} and
 * {@code Replies}), so byte 11 of the payload is {@code p} for publish, {@code c} connected,
 * {@code a} ack, {@code e} error, {@code b} broadcast. Lifecycle: on {@code connected} it subscribes
 * (when given a topic) and completes {@code ready} on the ack; with no topic, on {@code connected}.
 * Event loop only (one instance per channel).
 */
final class DeliveryDecoder extends ByteToMessageDecoder {
    private static final int ACTION_AT = "{\"action\":\"".length();
    private static final byte[] T_FIELD = "\"t\":".getBytes(StandardCharsets.US_ASCII);

    private final Deliveries deliveries;
    private final String topic;
    private final Promise<Void> ready;
    private int untilSample;

    /** @param topic the topic to subscribe to once connected, or null to stay idle */
    DeliveryDecoder(Deliveries deliveries, String topic, Promise<Void> ready) {
        this.deliveries = deliveries;
        this.topic = topic;
        this.ready = ready;
        // Spread the sampled messages over subscribers instead of sampling the same publish everywhere.
        this.untilSample = ThreadLocalRandom.current().nextInt(deliveries.sampleEvery());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        long published = 0;
        for (;;) {
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
                    if (size > ACTION_AT && in.getByte(payload + ACTION_AT) == 'p') {
                        published++;
                        if (--untilSample < 0) {
                            untilSample = deliveries.sampleEvery() - 1;
                            sample(in, payload, payload + size);
                        }
                    } else {
                        onReply(ctx, in, payload, size);
                    }
                }
                case 0x8 -> deliveries.closeFrame(size >= 2 ? in.getUnsignedShort(payload) : 1005);
                case 0x9 -> ctx.channel().writeAndFlush(new PongWebSocketFrame(in.retainedSlice(payload, size)));
                default -> { } // pong, binary, continuation: Courier sends none we need
            }
            in.readerIndex(payload + size);
        }
        if (published > 0) {
            deliveries.add(published);
        }
    }

    private void onReply(ChannelHandlerContext ctx, ByteBuf in, int payload, int size) {
        byte action = size > ACTION_AT ? in.getByte(payload + ACTION_AT) : 0;
        if (action == 'c') {
            if (topic == null) {
                ready.trySuccess(null);
            } else {
                ctx.channel().writeAndFlush(new TextWebSocketFrame("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":1}"));
            }
        } else if (action == 'a') {
            ready.trySuccess(null);
        } else if (action == 'e') {
            ready.tryFailure(new IllegalStateException(in.toString(payload, size, StandardCharsets.UTF_8)));
        }
    }

    /** Latency of one delivery: now minus the {@code "t"} nanoTime the publisher wrote into the message. */
    private void sample(ByteBuf in, int from, int to) {
        int at = indexOf(in, from, to, T_FIELD);
        if (at < 0) {
            return;
        }
        long sentNanos = 0;
        int i = at + T_FIELD.length;
        boolean negative = i < to && in.getByte(i) == '-';
        if (negative) {
            i++;
        }
        for (byte c; i < to && (c = in.getByte(i)) >= '0' && c <= '9'; i++) {
            sentNanos = sentNanos * 10 + (c - '0');
        }
        deliveries.recordLatencyNanos(System.nanoTime() - (negative ? -sentNanos : sentNanos));
    }

    private static int indexOf(ByteBuf in, int from, int to, byte[] needle) {
        outer:
        for (int i = from; i <= to - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (in.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
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
