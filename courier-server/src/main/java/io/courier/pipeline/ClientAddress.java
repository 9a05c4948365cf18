package io.courier.pipeline;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The address of the client at the other end of a connection, which is what logs and per-address
 * limits mean by "remote". Without the PROXY protocol it is the socket's peer; with it, the address
 * the proxy's header states, stored on the channel by the handler that decoded it (before any request
 * is read). Any thread; the attribute is written once, on the channel's event loop.
 */
public final class ClientAddress {
    private static final AttributeKey<InetSocketAddress> STATED = AttributeKey.valueOf("courier.client.address");

    private ClientAddress() {}

    /** The client's address: the one a PROXY header stated, else the socket's peer. */
    public static SocketAddress of(Channel channel) {
        InetSocketAddress stated = channel.attr(STATED).get();
        return stated != null ? stated : channel.remoteAddress();
    }

    /** Records the address a PROXY protocol header stated for this connection. */
    public static void state(Channel channel, InetSocketAddress client) {
        channel.attr(STATED).set(client);
    }
}
