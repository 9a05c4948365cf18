package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;

/**
 * Socket.IO 4.8 ({@code courier-bench/socketio/server.js}: a topic is a room), spoken by hand over its
 * WebSocket transport: Engine.IO v4 packets, one per frame ({@code 0{...}} open, {@code 2} ping,
 * {@code 3} pong, {@code 4...} message), carrying Socket.IO v5 packets ({@code 40} connect, {@code 42}
 * event, {@code 43} ack, {@code 44} connect error). From
 * https://socket.io/docs/v4/engine-io-protocol/ and https://socket.io/docs/v4/socket-io-protocol/.
 *
 * <p>A subscriber emits {@code subscribe} with an ack id and is ready on the ack; the server emits
 * each publish to the room as {@code 42["m",MESSAGE]}. A publisher emits {@code publish} with an ack id
 * per publish ({@code 42ID["publish","TOPIC",MESSAGE]}) and the server acks once it has emitted to the
 * room, in order. The server pings every 25 s; both answer.
 */
final class SocketIoTarget implements Target {
    /** {@code 42["m",}: an event packet of the server's "m" event; the message object follows. */
    private static final ByteBuf DELIVERY =
            Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer("42[\"m\",".getBytes(StandardCharsets.US_ASCII))
                    .asReadOnly());

    @Override
    public String name() {
        return "socketio";
    }

    @Override
    public void prepare(String[] topics) {
        // rooms need no setup
    }

    @Override
    public String nextPath() {
        return "/socket.io/?EIO=4&transport=websocket";
    }

    @Override
    public SubscriberProtocol subscriber(String topic) {
        return new Subscriber(topic);
    }

    @Override
    public PublisherProtocol publisher(String[] topics) {
        return new Publisher(topics);
    }

    /** The Engine.IO and Socket.IO packet type of a frame: {@code '0'} open, {@code '2'} ping, {@code '4'}+second byte. */
    private static int packet(ByteBuf in, int from, int to) {
        if (to <= from) {
            return 0;
        }
        int eio = in.getByte(from);
        if (eio != '4' || to - from < 2) {
            return eio;
        }
        return '4' * 256 + in.getByte(from + 1);
    }

    private static final int OPEN = '0';
    private static final int CLOSE = '1';
    private static final int PING = '2';
    private static final int CONNECT = '4' * 256 + '0';
    private static final int EVENT = '4' * 256 + '2';
    private static final int ACK = '4' * 256 + '3';
    private static final int CONNECT_ERROR = '4' * 256 + '4';

    private static final class Subscriber implements SubscriberProtocol {
        private final String topic;

        Subscriber(String topic) {
            this.topic = topic;
        }

        @Override
        public void data(Channel channel, int opcode, ByteBuf in, int from, int to, Events events) {
            if (opcode != 0x1) {
                return; // binary attachments: the server sends none
            }
            switch (packet(in, from, to)) {
                case EVENT -> {
                    int length = DELIVERY.readableBytes();
                    boolean ours = to - from > length + 1 && ByteBufUtil.equals(in, from, DELIVERY, 0, length);
                    events.delivery(in, ours ? from + length : -1, to - 1);
                }
                case PING -> channel.writeAndFlush(new TextWebSocketFrame("3"));
                case OPEN -> channel.writeAndFlush(new TextWebSocketFrame("40"));
                case CONNECT -> {
                    if (topic == null) {
                        events.ready();
                    } else {
                        channel.writeAndFlush(new TextWebSocketFrame("420[\"subscribe\",\"" + topic + "\"]"));
                    }
                }
                case ACK -> events.ready();
                case CONNECT_ERROR, CLOSE -> events.failed(in.toString(from, to - from, StandardCharsets.UTF_8));
                default -> {}
            }
        }
    }

    private static final class Publisher implements PublisherProtocol {
        private final String[] topics;
        private final StringBuilder scratch = new StringBuilder(256);

        Publisher(String[] topics) {
            this.topics = topics.clone();
        }

        @Override
        public WebSocketFrame publish(ByteBufAllocator alloc, int topic, long id, CharSequence message) {
            StringBuilder s = scratch;
            s.setLength(0);
            s.append("42")
                    .append(id)
                    .append("[\"publish\",\"")
                    .append(topics[topic])
                    .append("\",")
                    .append(message)
                    .append(']');
            return new TextWebSocketFrame(ByteBufUtil.writeUtf8(alloc, s));
        }

        @Override
        public void read(Channel channel, WebSocketFrame frame, Replies replies) {
            if (!(frame instanceof TextWebSocketFrame)) {
                return;
            }
            ByteBuf in = frame.content();
            int from = in.readerIndex();
            int to = in.writerIndex();
            switch (packet(in, from, to)) {
                case ACK -> replies.acked(1);
                case PING -> channel.writeAndFlush(new TextWebSocketFrame("3"));
                case OPEN -> channel.writeAndFlush(new TextWebSocketFrame("40"));
                case CONNECT -> replies.ready();
                case CONNECT_ERROR, CLOSE -> replies.failed(in.toString(StandardCharsets.UTF_8));
                default -> {}
            }
        }
    }
}
