package io.courier.hub;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundInvoker;
import java.util.HashMap;
import java.util.Map;

/**
 * The hub's view of one WebSocket connection: its channel, the event loop it lives on and the
 * groups it belongs to. Created by {@link Hub#connect}; every field is confined to the channel's
 * event loop (a channel never changes loop), so none needs a lock.
 */
public final class Subscriber {
    final Channel channel;
    /**
     * The context nearest the pipeline's head. Fan-out frames are ready for the wire, so they are
     * written and flushed from here and skip every handler: a profile of fanout-1k spent about a
     * third of the server's time walking the outbound pipeline per delivery (type checks in the
     * frame encoder, idle handlers) before this.
     */
    private final ChannelOutboundInvoker head;
    final String audience;
    final Fanout fanout;
    /** Index of the channel's event loop in the hub; picks this subscriber's {@link LoopSlot}. */
    final int loop;
    /** Topic name → this subscriber's slot entry in that topic's group. Event loop only. */
    final Map<String, Membership> topics = new HashMap<>();
    Membership everyone;
    /** True while this subscriber waits in its loop's flush list. Event loop only. */
    boolean flushPending;
    /** Set when the connection fell behind; it gets no more deliveries. Event loop only. */
    boolean cutOff;

    Subscriber(Channel channel, String audience, Fanout fanout, int loop) {
        this.channel = channel;
        this.audience = audience;
        this.fanout = fanout;
        this.loop = loop;
        ChannelHandlerContext first = channel.pipeline().firstContext();
        this.head = first != null ? first : channel;
    }

    public String audience() {
        return audience;
    }

    public int subscriptionCount() {
        return topics.size();
    }

    public boolean isSubscribed(String topic) {
        return topics.containsKey(topic);
    }

    /** Flushes what {@link #deliver} wrote, skipping the handlers as the writes did. Event loop only. */
    void flush() {
        head.flush();
    }

    /** Stops deliveries to this subscriber (it is being closed as a slow consumer). Event loop only. */
    public void cutOff() {
        cutOff = true;
    }

    /** Writes a shared frame; {@code frame} is not consumed. Event loop only. */
    boolean deliver(ByteBuf frame) {
        if (cutOff || !channel.isActive()) {
            return false;
        }
        head.write(frame.retainedDuplicate(), channel.voidPromise());
        if (!flushPending) {
            flushPending = true;
            fanout.needsFlush(this);
        }
        return true;
    }
}
