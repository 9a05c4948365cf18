package io.courier.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import java.net.SocketAddress;

/**
 * A connected channel whose socket takes every byte at once: {@link #doWrite} drains the outbound
 * buffer as a socket with room would, and releases each message. Everything above the socket is
 * Netty's own ({@link AbstractChannel}, pipeline, {@code ChannelOutboundBuffer} and its recycled
 * entries), so a delivery costs what it costs on a real connection minus the system call.
 *
 * <p>Why not {@code LocalChannel}: its peer keeps every written message in an unbounded linked queue
 * (one node allocated per message) and reads it in a task of its own, which would add per-delivery
 * allocation and work that the server does not have. Why not {@code EmbeddedChannel}: each has an
 * event loop of its own that runs tasks only when asked, while the hub needs many channels on one
 * real loop. This channel needs no I/O registration, so it joins any event loop, including the
 * epoll loops the server runs on. Event loop only, like every channel.
 */
final class DiscardChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false);

    private final ChannelConfig config = new DefaultChannelConfig(this);
    private volatile boolean open = true;
    /** Bytes the "socket" took. Event loop only. */
    private long writtenBytes;

    DiscardChannel() {
        super(null);
    }

    long writtenBytes() {
        return writtenBytes;
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        for (; ; ) {
            Object msg = in.current();
            if (msg == null) {
                return;
            }
            if (msg instanceof ByteBuf buf) {
                writtenBytes += buf.readableBytes();
            }
            in.remove(); // releases msg and recycles its entry
        }
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new AbstractUnsafe() {
            @Override
            public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
                promise.setFailure(new UnsupportedOperationException("a DiscardChannel is born connected"));
            }
        };
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true;
    }

    @Override
    protected SocketAddress localAddress0() {
        return null;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("a DiscardChannel has no address");
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        open = false;
    }

    @Override
    protected void doBeginRead() {
        // Nothing ever arrives.
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }
}
