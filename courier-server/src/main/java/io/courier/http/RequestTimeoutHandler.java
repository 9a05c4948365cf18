package io.courier.http;

import io.courier.error.ErrorCode;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds how long a client may take to send a request: the clock starts when the connection opens
 * or the previous response is written, and stops when the request's last byte arrives (the server
 * may then take its time to answer). A request still incomplete at the deadline, such as one
 * trickling in a byte at a time, is answered 408 and the connection closed; an idle keep-alive
 * connection is simply closed. A reader-idle timeout would not do: a slow client never goes idle.
 * Event loop only (one instance per channel); removed when the connection becomes a WebSocket.
 */
public final class RequestTimeoutHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private ScheduledFuture<?> deadline;
    private boolean requestStarted;

    public RequestTimeoutHandler(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            arm(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            requestStarted = true;
        }
        if (msg instanceof LastHttpContent) {
            requestStarted = false;
            cancel();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent && deadline == null) {
            // The answer is on its way: the next request's clock starts now.
            arm(ctx);
        }
        ctx.write(msg, promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    private void arm(ChannelHandlerContext ctx) {
        cancel();
        deadline = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        deadline = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (!requestStarted) {
            ctx.close();
            return;
        }
        FullHttpResponse response = HttpErrors.response(ctx.alloc(), ErrorCode.EREQUEST_TIMEOUT,
                "request not received completely within " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s");
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
