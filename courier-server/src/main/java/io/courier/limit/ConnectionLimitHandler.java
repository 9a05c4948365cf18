package io.courier.limit;

import io.courier.config.Config;
import io.courier.logging.RateLimitedLog;
import io.courier.metrics.CourierMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses connections at accept, before a pipeline, a buffer or a timer is spent on them: past
 * {@code courier.max.connections} open in all, or past {@code courier.max.connections.per.address}
 * from one remote address. A refused connection is closed at once, unanswered; the refusal is
 * counted by reason and logged at most once per {@value #LOG_INTERVAL_SECONDS} s.
 *
 * <p>Sits on the server channel's pipeline, ahead of the bootstrap's acceptor: every accepted child
 * passes through {@link #channelRead} on the accepting thread, and an admitted one gives its slots
 * back when it closes, on its own event loop. Counts are lock-free.
 */
@ChannelHandler.Sharable
public final class ConnectionLimitHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimitHandler.class);
    private static final long LOG_INTERVAL_SECONDS = 10;
    static final String MAX_CONNECTIONS = "max_connections";
    static final String MAX_CONNECTIONS_PER_ADDRESS = "max_connections_per_address";

    private final int maxConnections;
    private final int maxPerAddress;
    private final CourierMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final KeyedCounts<InetAddress> perAddress = new KeyedCounts<>();
    private final RateLimitedLog refusals = new RateLimitedLog(log, LOG_INTERVAL_SECONDS, TimeUnit.SECONDS);

    public ConnectionLimitHandler(Config.Limits limits, CourierMetrics metrics) {
        this.maxConnections = limits.maxConnections();
        this.maxPerAddress = limits.maxConnectionsPerAddress();
        this.metrics = metrics;
        metrics.watchTcpConnections(open::get);
    }

    /** Accepting thread only: {@code msg} is a newly accepted, not yet registered child channel. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        String refusal = admit(child);
        if (refusal == null) {
            ctx.fireChannelRead(child);
            return;
        }
        // Not registered with an event loop yet: close the socket directly, as the bootstrap's own
        // acceptor does when registration fails. Nothing is written, nothing is allocated.
        child.unsafe().closeForcibly();
        metrics.connectionRefused(refusal);
        var warning = refusals.warning();
        if (warning != null) {
            warning.addKeyValue("reason", refusal)
                    .addKeyValue("limit", MAX_CONNECTIONS.equals(refusal) ? maxConnections : maxPerAddress)
                    .addKeyValue("remote", describe(child.remoteAddress()))
                    .log("connection refused at accept");
        }
    }

    /** Takes the new connection's slots and arranges their return; the refusal reason, or null. */
    private String admit(Channel child) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return MAX_CONNECTIONS;
        }
        InetAddress address = maxPerAddress > 0 ? address(child.remoteAddress()) : null;
        if (address != null && !perAddress.tryAcquire(address, maxPerAddress)) {
            open.decrementAndGet();
            return MAX_CONNECTIONS_PER_ADDRESS;
        }
        child.closeFuture().addListener((ChannelFutureListener) f -> {
            open.decrementAndGet();
            if (address != null) {
                perAddress.release(address);
            }
        });
        return null;
    }

    /** Connections open now (admitted, not yet closed). */
    public int open() {
        return open.get();
    }

    private static InetAddress address(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    /** An address is not client-controlled text: it prints as digits, dots and colons. */
    private static String describe(SocketAddress remote) {
        InetAddress address = address(remote);
        return address == null ? String.valueOf(remote) : address.getHostAddress();
    }
}
