package io.courier.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.function.Consumer;

/** Opens one WebSocket to the server under test ({@link Target#nextPath}, e.g. Courier's {@code /ws?token=KEY}). Any thread. */
final class Connector {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    /** Courier's default courier.ws.max.frame.bytes; the subscribers' raw decoder has no limit of its own. */
    private static final int MAX_FRAME_BYTES = 65_536;

    private final ClientTransport transport;
    private final InetSocketAddress server;
    private final String wsUrl;

    /** @param httpUrl the server's {@code http://HOST:PORT}; the socket URL is derived from it, not from /v1/sign */
    Connector(ClientTransport transport, URI httpUrl) {
        this.transport = transport;
        this.server = new InetSocketAddress(httpUrl.getHost(), httpUrl.getPort());
        this.wsUrl = "ws://" + httpUrl.getHost() + ":" + httpUrl.getPort();
    }

    Channel open(EventLoopGroup group, String path, Promise<Void> ready, Consumer<ChannelPipeline> install) {
        return open(group, path, null, 0, ready, install);
    }

    /**
     * Connects and shakes hands, then lets {@code install} set up the pipeline. {@code ready} fails on
     * any error before that; completing it afterwards is the installed handler's job.
     *
     * @param path               the request target: path and query
     * @param source             the local address to bind, or null for the kernel's choice
     * @param receiveBufferBytes SO_RCVBUF, or 0 for the kernel's (auto-tuned) default
     */
    Channel open(
            EventLoopGroup group,
            String path,
            InetSocketAddress source,
            int receiveBufferBytes,
            Promise<Void> ready,
            Consumer<ChannelPipeline> install) {
        WebSocketClientHandshaker handshaker = WebSocketClientHandshakerFactory.newHandshaker(
                URI.create(wsUrl + path),
                WebSocketVersion.V13,
                null,
                false,
                EmptyHttpHeaders.INSTANCE,
                MAX_FRAME_BYTES);
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(transport.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
        if (receiveBufferBytes > 0) {
            bootstrap.option(ChannelOption.SO_RCVBUF, receiveBufferBytes);
        }
        ChannelFuture connect = bootstrap
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast("http", new HttpClientCodec())
                                .addLast("aggregator", new HttpObjectAggregator(8192))
                                .addLast("handshake", new HandshakeHandler(handshaker, ready, install));
                    }
                })
                .connect(server, source);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
            }
        });
        return connect.channel();
    }
}
