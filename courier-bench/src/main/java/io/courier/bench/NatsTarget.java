package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * nats-server's WebSocket listener, core NATS (no JetStream): a topic is a subject, a subscriber sends
 * {@code CONNECT}, {@code SUB} and {@code PING} and is ready on the {@code PONG} (the server handles a
 * connection's operations in order, so the subscription is in place by then).
 *
 * <p>NATS does not acknowledge a {@code PUB}. A publisher writes {@code PING} after each batch of
 * publishes it flushes, and the matching {@code PONG} acknowledges every publish written before that
 * {@code PING}: the server has read and routed them to the subscribers' outbound buffers, which is what
 * Courier's ack says too ("queued for fan-out"). So the {@code --window} bound counts publishes not yet
 * covered by a {@code PONG}, and a publish counts as acknowledged once a {@code PONG} covers it.
 * Every frame is binary; the server's frames are read as a byte stream ({@link NatsParser}).
 */
final class NatsTarget implements Target {
    /** verbose off (no +OK per PUB), no headers, no echo of a connection's own messages. */
    private static final String CONNECT = "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,"
            + "\"no_responders\":false,\"echo\":false,\"lang\":\"java\",\"version\":\"courier-bench\","
            + "\"protocol\":1,\"name\":\"courier-bench\"}\r\n";

    private static final byte[] PING = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PONG = "PONG\r\n".getBytes(StandardCharsets.US_ASCII);

    @Override
    public String name() {
        return "nats";
    }

    @Override
    public void prepare(String[] topics) {
        // subjects need no setup
    }

    @Override
    public String nextPath() {
        return "/";
    }

    @Override
    public SubscriberProtocol subscriber(String topic) {
        return new Subscriber(topic);
    }

    @Override
    public PublisherProtocol publisher(String[] topics) {
        return new Publisher(topics);
    }

    private static WebSocketFrame frame(Channel channel, byte[] bytes) {
        return new BinaryWebSocketFrame(channel.alloc().buffer(bytes.length).writeBytes(bytes));
    }

    private static WebSocketFrame frame(Channel channel, String ascii) {
        return new BinaryWebSocketFrame(ByteBufUtil.writeAscii(channel.alloc(), ascii));
    }

    private static final class Subscriber implements SubscriberProtocol, NatsParser.Handler {
        private final String topic;
        private final NatsParser parser = new NatsParser();
        // Set for the duration of one data() call.
        private Channel channel;
        private Events events;

        Subscriber(String topic) {
            this.topic = topic;
        }

        @Override
        public void opened(Channel channel) {
            channel.writeAndFlush(
                    frame(channel, CONNECT + (topic == null ? "" : "SUB " + topic + " 1\r\n") + "PING\r\n"));
        }

        @Override
        public void data(Channel channel, int opcode, ByteBuf in, int from, int to, Events events) {
            this.channel = channel;
            this.events = events;
            parser.feed(in, from, to, this);
            this.channel = null;
            this.events = null;
        }

        @Override
        public void msg(ByteBuf in, int from, int to) {
            events.delivery(in, from, to);
        }

        @Override
        public void ping() {
            channel.writeAndFlush(frame(channel, PONG));
        }

        @Override
        public void pong() {
            events.ready(); // the first one answers the PING after SUB; later ones change nothing
        }

        @Override
        public void info() {}

        @Override
        public void error(String line) {
            events.failed(line);
        }

        @Override
        public void release() {
            parser.release();
        }
    }

    private static final class Publisher implements PublisherProtocol, NatsParser.Handler {
        /** Marks the PING sent with CONNECT: its PONG means ready. */
        private static final long CONNECTED = -1;

        private final String[] topics;
        private final StringBuilder scratch = new StringBuilder(256);
        private final NatsParser parser = new NatsParser();
        /** Publishes written before each PING still unanswered, oldest first. */
        private final ArrayDeque<Long> pings = new ArrayDeque<>();

        private long acked;
        // Set for the duration of one read() call.
        private Channel channel;
        private Replies replies;

        Publisher(String[] topics) {
            this.topics = topics.clone();
        }

        @Override
        public void opened(Channel channel) {
            pings.add(CONNECTED);
            channel.writeAndFlush(frame(channel, CONNECT + "PING\r\n"));
        }

        @Override
        public WebSocketFrame publish(ByteBufAllocator alloc, int topic, long id, CharSequence message) {
            StringBuilder s = scratch;
            s.setLength(0);
            // The message is ASCII (Publication), so its length in chars is its length in bytes.
            s.append("PUB ")
                    .append(topics[topic])
                    .append(' ')
                    .append(message.length())
                    .append("\r\n")
                    .append(message)
                    .append("\r\n");
            return new BinaryWebSocketFrame(ByteBufUtil.writeAscii(alloc, s));
        }

        @Override
        public void afterBatch(Channel channel, long sent) {
            pings.add(sent);
            channel.write(frame(channel, PING), channel.voidPromise());
        }

        @Override
        public void read(Channel channel, WebSocketFrame frame, Replies replies) {
            this.channel = channel;
            this.replies = replies;
            ByteBuf in = frame.content();
            parser.feed(in, in.readerIndex(), in.writerIndex(), this);
            this.channel = null;
            this.replies = null;
        }

        @Override
        public void pong() {
            Long covered = pings.poll();
            if (covered == null) {
                return;
            }
            if (covered == CONNECTED) {
                replies.ready();
            } else if (covered > acked) {
                replies.acked(covered - acked);
                acked = covered;
            }
        }

        @Override
        public void ping() {
            channel.writeAndFlush(frame(channel, PONG));
        }

        @Override
        public void msg(ByteBuf in, int from, int to) {}

        @Override
        public void info() {}

        @Override
        public void error(String line) {
            replies.failed(line);
        }

        @Override
        public void release() {
            parser.release();
        }
    }
}
