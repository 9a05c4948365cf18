package io.courier.http;

import io.courier.error.ErrorCode;
import io.courier.error.HttpErrors;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds how long a client may take to send a request, with two clocks:
 * <ul>
 * <li>the request clock starts when the connection opens or the previous response is written, and
 * stops when the request's last byte arrives (the server may then take its time to answer);</li>
 * <li>the header clock starts at the first byte of a request and stops when its head is decoded,
 * so a client that starts a request and stalls in its headers is answered long before the request
 * timeout. An idle keep-alive connection has sent no byte, so only the request clock governs it
 * (Prometheus scrapes every 15 s on one connection).</li>
 * </ul>
 * A request begun and still incomplete at either deadline, such as one trickling in a byte at a
 * time, is answered 408 and the connection closed; an idle keep-alive connection is simply closed;
 * a request already answered (401 before its body, 417) is closed without a second answer. A
 * reader-idle timeout would not do: a slow client never goes idle.
 *
 * <p>The HTTP decoder swallows the bytes of an incomplete head, so {@link #byteWatcher()} sits in
 * front of it and reports that bytes arrived. Event loop only (one instance per channel); removed,
 * with its watcher, when the connection becomes a WebSocket.
 */
public final class RequestTimeoutHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private final long headerTimeoutNanos;
    private final ChannelHandler byteWatcher = new ByteWatcher();
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> deadline;
    private ScheduledFuture<?> headerDeadline;
    /** A byte of the next request has arrived and its head is not decoded yet. */
    private boolean headStarted;
    /** The head is decoded and the last byte of the body has not arrived. */
    private boolean requestStarted;
    /** The current request was answered before it arrived completely (401, 417). */
    private boolean answeredEarly;
    /** A request arrived completely and its answer is not written yet. */
    private boolean awaitingAnswer;

    public RequestTimeoutHandler(Duration timeout, Duration headerTimeout) {
        this.timeoutNanos = timeout.toNanos();
        this.headerTimeoutNanos = headerTimeout.toNanos();
    }

    /** The handler to add just before the HTTP decoder; it reports each read of raw bytes. */
    public ChannelHandler byteWatcher() {
        return byteWatcher;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
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
            headStarted = false;
            cancelHeader();
            requestStarted = true;
            answeredEarly = false;
        }
        if (msg instanceof LastHttpContent) {
            requestStarted = false;
            cancel();
            if (answeredEarly) {
                // The answer went out before the body ended: the next request's clock starts now.
                answeredEarly = false;
                arm(ctx);
            } else {
                awaitingAnswer = true;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r
                && r.status().codeClass() != HttpStatusClass.INFORMATIONAL
                && requestStarted) {
            answeredEarly = true;
        }
        if (msg instanceof LastHttpContent
                && !(msg instanceof FullHttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
            awaitingAnswer = false;
            if (deadline == null) {
                // The answer is on its way: the next request's clock starts now.
                arm(ctx);
            }
            if (headStarted && headerDeadline == null) {
                // A pipelined head began while this answer was pending; its clock starts now.
                armHeader(ctx);
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
        cancelHeader();
        if (ctx.channel().isRegistered()) {
            try {
                ctx.pipeline().remove(byteWatcher);
            } catch (NoSuchElementException alreadyGone) {
                // not added (tests) or removed already
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        cancelHeader();
        ctx.fireChannelInactive();
    }

    private void bytesArrived() {
        if (headStarted || requestStarted || ctx == null) {
            return;
        }
        headStarted = true;
        if (!awaitingAnswer) {
            armHeader(ctx);
        }
    }

    private void arm(ChannelHandlerContext ctx) {
        cancel();
        deadline = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void armHeader(ChannelHandlerContext ctx) {
        cancelHeader();
        headerDeadline = ctx.executor().schedule(() -> expireHeader(ctx), headerTimeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void cancelHeader() {
        if (headerDeadline != null) {
            headerDeadline.cancel(false);
            headerDeadline = null;
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        deadline = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (!requestStarted && !headStarted || answeredEarly) {
            ctx.close();
            return;
        }
        timeOut(ctx, "request not received completely within " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s");
    }

    private void expireHeader(ChannelHandlerContext ctx) {
        headerDeadline = null;
        if (!ctx.channel().isActive() || !headStarted || awaitingAnswer) {
            return;
        }
        timeOut(
                ctx,
                "request headers not received within " + TimeUnit.NANOSECONDS.toSeconds(headerTimeoutNanos) + " s");
    }

    private void timeOut(ChannelHandlerContext ctx, String message) {
        cancel();
        cancelHeader();
        FullHttpResponse response = HttpErrors.response(ctx.alloc(), ErrorCode.EREQUEST_TIMEOUT, message);
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** Sees raw bytes before the decoder. Event loop only. */
    private final class ByteWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext watcherCtx, Object msg) {
            if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
                bytesArrived();
            }
            watcherCtx.fireChannelRead(msg);
        }
    }
}
