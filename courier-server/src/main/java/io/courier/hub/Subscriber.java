package io.courier.hub;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundInvoker;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The hub's view of one WebSocket connection: its channel, the event loop it lives on and the
 * groups it belongs to. Created by {@link Hub#connect}; every field is confined to the channel's
 * event loop (a channel never changes loop), so none needs a lock.
 */
public final class Subscriber {
    /**
     * Frames up to this size are copied into the connection's batch; larger ones are written as
     * shared duplicates, where the copy would cost more than the bookkeeping it saves.
     */
    static final int COPY_MAX_BYTES = 1024;

    /** A drain's first batch; each next one of the same drain is twice as large, up to the flush size. */
    private static final int BATCH_INITIAL_BYTES = 2048;

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
    /** True while this subscriber is in its loop's list of those the fan-out waits for. Event loop only. */
    boolean behind;
    /** True while listed in its loop's {@link Backlog} (it held unsent bytes). Event loop only. */
    boolean backlogged;
    /** Bytes written since the last flush. Event loop only. */
    private long unflushedBytes;
    /**
     * Past this many unflushed bytes a delivery flushes at once, inside the drain: a batch of
     * large publishes would otherwise pile up in the outbound buffer and count against the
     * slow-consumer bound before the client had a chance to read any of it. A quarter of the
     * bound (the high water mark), at most 64 KiB: the largest segment loopback hands over at
     * once, so small messages still leave in one {@code writev} per drain.
     */
    private final long flushBytes;
    /**
     * The first small frame of the current drain, retained and not yet written. A subscriber that
     * gets one frame per drain (light load) writes it as before, shared and uncopied; a second one
     * starts {@link #batch}. Event loop only.
     */
    private ByteBuf held;
    /**
     * Small frames of the current drain copied back to back, written as one buffer. At depth a
     * connection gets hundreds of frames per drain: per frame, a shared duplicate costs an object,
     * an outbound-buffer entry, an iovec and an atomic on the frame's reference count that every
     * loop contends for, while a copy of ~100 bytes costs less than any of them (NATS copies too).
     * Event loop only.
     */
    private ByteBuf batch;

    Subscriber(Channel channel, String audience, Fanout fanout, int loop) {
        this.channel = channel;
        this.audience = audience;
        this.fanout = fanout;
        this.loop = loop;
        ChannelHandlerContext first = channel.pipeline().firstContext();
        this.head = first != null ? first : channel;
        this.flushBytes = Math.max(1, Math.min(64 * 1024, channel.config().getWriteBufferHighWaterMark() / 4));
    }

    public String audience() {
        return audience;
    }

    public int subscriptionCount() {
        return topics.size();
    }

    /** The topics subscribed to now (a view; read it before the subscriber changes). Own event loop only. */
    public Set<String> topicNames() {
        return Collections.unmodifiableSet(topics.keySet());
    }

    /** False once {@link Hub#disconnect} removed it. Own event loop only. */
    public boolean isConnected() {
        return everyone != null;
    }

    /** False once deliveries stopped (closing, cut off) or the channel closed. Own event loop only. */
    public boolean accepting() {
        return !cutOff && channel.isActive();
    }

    public boolean isSubscribed(String topic) {
        return topics.containsKey(topic);
    }

    /** Flushes what {@link #deliver} wrote, skipping the handlers as the writes did. Event loop only. */
    void flush() {
        unflushedBytes = 0;
        writeCoalesced();
        head.flush();
        fanout.backlog.flushed(this);
    }

    /** Hands what this drain held back or copied to the channel, in order. Event loop only. */
    private void writeCoalesced() {
        if (held != null) {
            // duplicate(), not retainedDuplicate(): the reference taken in deliver() goes with it.
            head.write(held.duplicate(), channel.voidPromise());
            held = null;
        } else if (batch != null) {
            head.write(batch, channel.voidPromise());
            batch = null;
        }
    }

    /**
     * Stops deliveries to this subscriber (it is being closed as a slow consumer, or for the
     * server's outbound budget). Event loop only.
     */
    public void cutOff() {
        cutOff = true;
        fanout.caughtUp(this);
    }

    /**
     * The connection's unsent data passed the slow-consumer bound (it became unwritable): the
     * fan-out of its loop finishes the publish in hand and waits until {@link #caughtUp} or
     * {@link #cutOff}. Event loop only.
     */
    public void fellBehind() {
        if (!cutOff) {
            fanout.fellBehind(this);
        }
    }

    /** The connection's unsent data fell back under half the bound (writable again). Event loop only. */
    public void caughtUp() {
        fanout.caughtUp(this);
    }

    /**
     * Writes frames the caller built for this subscriber alone (a history replay), in order, and
     * flushes; takes ownership of each. Skips the handlers as fan-out writes do, so the frames
     * keep their place between the ack before them and the deliveries after. Event loop only.
     */
    public void replay(Iterable<ByteBuf> frames) {
        writeCoalesced();
        boolean open = !cutOff && channel.isActive();
        for (ByteBuf frame : frames) {
            if (open) {
                head.write(frame, channel.voidPromise());
            } else {
                frame.release();
            }
        }
        if (open) {
            flush();
        }
    }

    /** Writes a shared frame; {@code frame} is not consumed. Event loop only. */
    boolean deliver(ByteBuf frame) {
        if (cutOff || !channel.isActive()) {
            return false;
        }
        int length = frame.readableBytes();
        if (length > COPY_MAX_BYTES) {
            writeCoalesced();
            head.write(frame.retainedDuplicate(), channel.voidPromise());
        } else if (batch != null) {
            if (batch.writableBytes() < length) {
                // Full: hand it over and go on in a larger one. Growing it in place would copy
                // everything copied so far again (a profile showed that as a fifth of the drain).
                // The next size is read first: once written, the buffer is the channel's.
                int next = Math.max(length, (int) Math.min(flushBytes, 2L * batch.capacity()));
                head.write(batch, channel.voidPromise());
                batch = channel.alloc().directBuffer(next);
            }
            batch.writeBytes(frame, frame.readerIndex(), length);
        } else if (held == null) {
            held = frame.retain();
        } else {
            batch = channel.alloc().directBuffer(Math.max(BATCH_INITIAL_BYTES, 2 * (held.readableBytes() + length)));
            batch.writeBytes(held, held.readerIndex(), held.readableBytes());
            held.release();
            held = null;
            batch.writeBytes(frame, frame.readerIndex(), length);
        }
        unflushedBytes += length;
        if (unflushedBytes >= flushBytes) {
            flush(); // stays in the flush list: the drain's closing flush is then a cheap no-op
        }
        if (!flushPending) {
            flushPending = true;
            fanout.needsFlush(this);
        }
        return true;
    }
}
