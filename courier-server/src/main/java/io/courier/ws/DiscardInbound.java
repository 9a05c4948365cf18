package io.courier.ws;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Put first in the pipeline of a connection whose close frame is on its way: releases every byte the
 * client still sends, before any decoding, until the client closes or the grace time ends. Reading
 * on (rather than closing) keeps the kernel from resetting the socket over unread input. Any thread;
 * stateless, so one instance serves every channel.
 */
@ChannelHandler.Sharable
final class DiscardInbound extends ChannelInboundHandlerAdapter {
    static final DiscardInbound INSTANCE = new DiscardInbound();

    private DiscardInbound() {}

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a read error while draining (a reset): nothing left to wait for
    }
}
