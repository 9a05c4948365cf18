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
 * <p>With the PROXY protocol ({@code courier.proxy.protocol}) every peer is the proxy, so the total is
 * checked at accept but the per-address limit only once the header names the client
 * ({@link #admitClient}, called by {@link ProxyProtocolHandler}): a connection over it is closed then,
 * before its first request is read.
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
    static final String PROXY_HEADER = "proxy_header";

    private final int maxConnections;
    private final int maxPerAddress;
    /** With the PROXY protocol the peer is the proxy: the per-address check waits for the header. */
    private final boolean perAddressAtAccept;

    private final CourierMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final KeyedCounts<InetAddress> perAddress = new KeyedCounts<>();
    private final RateLimitedLog refusals = new RateLimitedLog(log, LOG_INTERVAL_SECONDS, TimeUnit.SECONDS);

    public ConnectionLimitHandler(Config.Limits limits, CourierMetrics metrics) {
        this(limits, false, metrics);
    }

    /**
     * @param proxyProtocol every connection comes through a proxy that states the client's address in a
     *     PROXY header: the per-address limit is then applied by {@link #admitClient} when the header
     *     arrives, not at accept, where every connection shares the proxy's address
     */
    public ConnectionLimitHandler(Config.Limits limits, boolean proxyProtocol, CourierMetrics metrics) {
        this.maxConnections = limits.maxConnections();
        this.maxPerAddress = limits.maxConnectionsPerAddress();
        this.perAddressAtAccept = !proxyProtocol;
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
        // Counted before the close, so whoever sees the close also sees the count. Not registered with
        // an event loop yet: close the socket directly, as the bootstrap's own acceptor does when
        // registration fails. Nothing is written, nothing is allocated.
        metrics.connectionRefused(refusal);
        child.unsafe().closeForcibly();
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
        InetAddress address = maxPerAddress > 0 && perAddressAtAccept ? address(child.remoteAddress()) : null;
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

    /**
     * The per-address limit for a connection whose client address a PROXY header has just stated; the
     * slot is given back when the connection closes. When refused, counts and logs the refusal like
     * one at accept; the caller closes the connection. The connection's event loop.
     *
     * @return true when admitted (always, with the per-address limit off)
     */
    public boolean admitClient(Channel child, InetAddress client) {
        if (maxPerAddress <= 0) {
            return true;
        }
        if (!perAddress.tryAcquire(client, maxPerAddress)) {
            refused(MAX_CONNECTIONS_PER_ADDRESS, client.getHostAddress());
            return false;
        }
        child.closeFuture().addListener((ChannelFutureListener) f -> perAddress.release(client));
        return true;
    }

    /** Counts (and logs, rate-limited) a connection closed for a missing or malformed PROXY header. */
    public void refusedProxyHeader(Channel child) {
        refused(PROXY_HEADER, describe(child.remoteAddress()));
    }

    private void refused(String reason, String remote) {
        metrics.connectionRefused(reason);
        var warning = refusals.warning();
        if (warning != null) {
            warning.addKeyValue("reason", reason)
                    .addKeyValue("remote", remote)
                    .log(
                            PROXY_HEADER.equals(reason)
                                    ? "connection closed: no valid PROXY header"
                                    : "connection refused");
        }
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
