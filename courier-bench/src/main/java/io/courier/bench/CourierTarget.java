package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;

/**
 * Courier's own protocol: the audience and topics are created over REST, every socket opens with a
 * signed key ({@code /ws?token=KEY}), a subscriber sends {@code subscribe} once {@code connected} and is
 * ready on its ack, and every publish gets an ack or an error reply of its own. Main thread, apart
 * from the per-connection protocols.
 */
final class CourierTarget implements Target {
    private final CourierApi api;
    private final SignedKeys keys;
    /** {@code --history-size}: the topics keep that many messages (0: no history). */
    private final int historySize;

    CourierTarget(LoadOptions options) {
        this.api = new CourierApi(options.url(), options.bearer());
        this.keys = new SignedKeys(api);
        this.historySize = options.historySize();
    }

    @Override
    public String name() {
        return "courier";
    }

    @Override
    public boolean courier() {
        return true;
    }

    /** For the hook traffic. */
    CourierApi api() {
        return api;
    }

    @Override
    public void prepare(String[] topics) {
        api.createAudience();
        for (String topic : topics) {
            api.createTopic(topic, historySize);
        }
    }

    @Override
    public String nextPath() {
        return "/ws?token=" + keys.next();
    }

    @Override
    public SubscriberProtocol subscriber(String topic) {
        return subscriberOf(topic);
    }

    /** A subscriber's protocol on its own, for tests of the frame counter. */
    static SubscriberProtocol subscriberOf(String topic) {
        return new Subscriber(topic);
    }

    @Override
    public PublisherProtocol publisher(String[] topics) {
        return new Publisher(topics);
    }

    /**
     * Tells the server's frames apart by the first letter of their action ({@code p} publish, {@code c}
     * connected, {@code a} ack, {@code e} error, {@code b} broadcast) and finds a delivery's message
     * through {@link ServerFrame}: a byte comparison with the prefix the server writes today, JSON
     * parsing for any other field order.
     */
    private static final class Subscriber implements SubscriberProtocol {
        private final String topic;
        private final ByteBuf publishPrefix;

        Subscriber(String topic) {
            this.topic = topic;
            this.publishPrefix = ServerFrame.publishPrefix(topic == null ? "" : topic);
        }

        @Override
        public void data(Channel channel, int opcode, ByteBuf in, int from, int to, Events events) {
            if (opcode != 0x1) {
                return; // binary, continuation: Courier sends none
            }
            byte action = ServerFrame.action(in, from, to);
            if (action == 'p') {
                events.delivery(in, ServerFrame.messageAt(in, from, to, publishPrefix), to);
            } else if (action == 'b') {
                events.broadcast();
            } else if (action == 'c') {
                if (topic == null) {
                    events.ready();
                } else {
                    channel.writeAndFlush(
                            new TextWebSocketFrame("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":1}"));
                }
            } else if (action == 'a') {
                events.ready();
            } else if (action == 'e') {
                events.failed(in.toString(from, to - from, StandardCharsets.UTF_8));
            }
        }
    }

    /** {@code {"action":"publish","topic":...,"id":n,"message":PUBLICATION}}; replies arrive in order. */
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
            s.append("{\"action\":\"publish\",\"topic\":\"")
                    .append(topics[topic])
                    .append("\",\"id\":")
                    .append(id)
                    .append(",\"message\":")
                    .append(message)
                    .append('}');
            return new TextWebSocketFrame(ByteBufUtil.writeUtf8(alloc, s));
        }

        @Override
        public void read(Channel channel, WebSocketFrame frame, Replies replies) {
            if (!(frame instanceof TextWebSocketFrame)) {
                return;
            }
            ByteBuf json = frame.content();
            byte action = ServerFrame.action(json, json.readerIndex(), json.writerIndex());
            if (action == 'c') {
                replies.ready();
            } else if (action == 'a') {
                replies.acked(1);
            } else if (action == 'e') {
                replies.refused(json.toString(StandardCharsets.UTF_8));
            }
        }
    }
}
