package io.courier.bench;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Runs the opening handshake with Netty's {@link WebSocketClientHandshaker}, then hands the pipeline
 * to {@code install}, which puts the connection's own handler in place, and leaves.
 *
 * <p>After {@code finishHandshake} the pipeline is {@code http, ws-decoder, ws-encoder, handshake}; the
 * HTTP codec is removed a moment later and passes on any bytes that arrived with the 101 response
 * (Courier's {@code connected} frame usually does). {@code install} may replace {@code ws-decoder}.
 * Event loop only.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final WebSocketClientHandshaker handshaker;
    private final Promise<Void> ready;
    private final Consumer<ChannelPipeline> install;

    HandshakeHandler(WebSocketClientHandshaker handshaker, Promise<Void> ready, Consumer<ChannelPipeline> install) {
        this.handshaker = handshaker;
        this.ready = ready;
        this.install = install;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        handshaker.handshake(ctx.channel()).addListener(f -> {
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
            }
        });
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        try {
            handshaker.finishHandshake(ctx.channel(), response);
        } catch (WebSocketHandshakeException e) {
            ready.tryFailure(new IllegalStateException("handshake refused: HTTP "
                    + response.status().code() + " " + response.content().toString(StandardCharsets.UTF_8)));
            ctx.close();
            return;
        }
        ChannelPipeline pipeline = ctx.pipeline();
        install.accept(pipeline);
        pipeline.remove(this);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ready.tryFailure(new IllegalStateException("closed during the handshake"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ready.tryFailure(cause);
        ctx.close();
    }
}
