package io.courier.limit;

import io.courier.pipeline.ClientAddress;
import io.courier.pipeline.Stage;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Behind HAProxy (or any proxy speaking the PROXY protocol, v1 or v2) every connection comes from the
 * proxy's address; the proxy's first bytes state the client's. Netty's {@link HAProxyMessageDecoder},
 * just before this handler, decodes them, closes a connection that does not start with a valid header,
 * and hands on whatever follows the header. This handler records the stated address as the
 * connection's {@link ClientAddress} for logs and limits, applies the per-address limit to it, and
 * leaves the pipeline. Event loop only; one instance per connection.
 *
 * <p>A {@code LOCAL} header (the proxy's own health check) and an {@code UNKNOWN} protocol state no
 * client: the connection keeps the proxy's address.
 */
public final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionLimitHandler limits;
    /** Set when the connection is refused (no valid header, or its client over the limit): later bytes are dropped. */
    private boolean refused;

    public ProxyProtocolHandler(ConnectionLimitHandler limits) {
        this.limits = limits;
    }

    /** The decoder and this handler, as the pipeline's first stages. */
    public static void addTo(ChannelPipeline pipeline, ConnectionLimitHandler limits) {
        pipeline.addLast(Stage.PROXY_DECODER.handlerName(), new HAProxyMessageDecoder());
        pipeline.addLast(Stage.PROXY.handlerName(), new ProxyProtocolHandler(limits));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HAProxyMessage header)) {
            // The decoder passes nothing on before a header; bytes after it reach the handlers behind us.
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            InetSocketAddress client = client(header);
            if (client != null) {
                if (!limits.admitClient(ctx.channel(), client.getAddress())) {
                    refused = true;
                    ctx.close();
                    return;
                }
                ClientAddress.state(ctx.channel(), client);
            }
            ctx.pipeline().remove(this);
        } finally {
            ReferenceCountUtil.release(header);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof HAProxyProtocolException || cause.getCause() instanceof HAProxyProtocolException) {
            // The decoder has closed the connection already (the protocol says: drop it at once). It may
            // report the same bad header again as the connection closes; count it once.
            if (!refused) {
                refused = true;
                limits.refusedProxyHeader(ctx.channel());
            }
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    /** The stated source, or null when the header states none. */
    private static InetSocketAddress client(HAProxyMessage header) {
        if (header.command() != HAProxyCommand.PROXY || header.sourceAddress() == null) {
            return null;
        }
        // The decoder has checked the address is an IP literal of the stated family: no DNS lookup here.
        InetAddress address = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
        return address == null ? null : new InetSocketAddress(address, header.sourcePort());
    }
}
