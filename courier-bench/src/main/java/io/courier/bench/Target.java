package io.courier.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

/**
 * A server the load client drives: Courier, or a peer it is compared with ({@code --target}). Every
 * target carries the same {@link Publication} as its message, so latency, loss, duplicates and order
 * are measured the same way for each; only the framing around it differs.
 *
 * <p>What an implementation must guarantee: a subscriber's {@code ready} completes only once the
 * server will deliver to it every publish acknowledged from then on; a publisher counts a publish as
 * acknowledged only once the server has taken it for fan-out (the order of acks is the order of
 * publishes on that connection); each delivery hands the bytes of exactly one message object to the
 * subscriber's {@link SubscriberProtocol.Events}, in the order the server sent them.
 */
interface Target {
    /** {@code courier}, {@code nats} or {@code socketio}. */
    String name();

    /** Main thread, once, before any socket opens: whatever must exist for {@code topics} (Courier creates them). */
    void prepare(String[] topics);

    /** Main thread: the request target (path and query) of the next WebSocket handshake. */
    String nextPath();

    /** One subscriber's protocol state; one instance per connection. */
    SubscriberProtocol subscriber(String topic);

    /** One publisher's protocol state; one instance per connection. */
    PublisherProtocol publisher(String[] topics);

    /** Whether the server is Courier, with its /metrics and /v1/hook. */
    default boolean courier() {
        return false;
    }

    /** The subscriber side of a protocol. Event loop only (one instance per channel). */
    interface SubscriberProtocol {
        /** What a subscriber reports to the frame counter that owns it. */
        interface Events {
            /**
             * One delivery; its message object starts at {@code from} and ends before {@code to}, or
             * {@code from} is -1 when the frame is a delivery whose message cannot be found.
             */
            void delivery(io.netty.buffer.ByteBuf in, int from, int to);

            /** A Courier broadcast (hook) frame. */
            void broadcast();

            void ready();

            void failed(String why);
        }

        /** The handshake is done; the protocol may write its first frames. */
        default void opened(Channel channel) {}

        /**
         * One data frame's payload, {@code in[from, to)}: opcode 0 (continuation), 1 (text) or 2 (binary).
         * The bytes are valid only during the call.
         */
        void data(Channel channel, int opcode, io.netty.buffer.ByteBuf in, int from, int to, Events events);

        /** The channel is gone: release what the protocol holds. */
        default void release() {}
    }

    /** The publisher side of a protocol. Event loop only (one instance per channel). */
    interface PublisherProtocol {
        /** What the server's frames mean to the publisher. */
        interface Replies {
            /** The connection is ready for publishes. */
            void ready();

            /** The next {@code n} publishes (in the order they were written) were acknowledged. */
            void acked(long n);

            /** The next publish was refused, with the server's words. */
            void refused(String text);

            /** The server said something wrong that belongs to no publish; the connection is likely lost. */
            void failed(String text);
        }

        /** The handshake is done; the protocol may write its first frames. */
        default void opened(Channel channel) {}

        /** The frame that publishes {@code message} (a {@link Publication}) to {@code topic}; {@code id} counts from 0. */
        WebSocketFrame publish(ByteBufAllocator alloc, int topic, long id, CharSequence message);

        /**
         * After a batch of {@link #publish} writes, before the flush, and within a long batch every
         * quarter window: a protocol whose server does not acknowledge each publish writes what will
         * acknowledge them ({@code sent} publishes so far).
         */
        default void afterBatch(Channel channel, long sent) {}

        /** One frame from the server (its content is released by the caller). */
        void read(Channel channel, WebSocketFrame frame, Replies replies);

        default void release() {}
    }

    static Target of(LoadOptions options) {
        return switch (options.target()) {
            case "nats" -> new NatsTarget();
            case "socketio" -> new SocketIoTarget();
            default -> new CourierTarget(options);
        };
    }
}
