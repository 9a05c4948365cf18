package io.courier.http;

import io.courier.auth.Principal;
import io.courier.auth.TokenVerifier;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.error.HttpErrors;
import io.courier.metrics.CourierMetrics;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Decides from a request's head, before the aggregator reads any of its body, whether the body is
 * worth holding: refuse cheaply, before spending.
 * <ul>
 * <li>A route that needs a bearer token and lacks a valid one: 401 {@code ETOKEN_INVALID} at once;
 * the body is discarded as it arrives; once answered, the connection is half-closed and closed when
 * the body ends or a second later, whichever comes first.</li>
 * <li>No route takes this method on this path (404, 405, CORS preflights, {@code /ws}): the head goes
 * on and the body is discarded; whoever answers needs no body.</li>
 * <li>Otherwise the body's size (its Content-Length, or the body limit when chunked) is reserved
 * from the server-wide {@link BodyBudget}; when it does not fit, 503 {@code EOVERLOADED} and close
 * as for a 401.
 * The reservation is released once the aggregated request is handed on or the connection ends.</li>
 * </ul>
 * The verified principal is left in {@link #VERIFIED} for {@link ApiHandler}, keyed by the exact
 * Authorization header, so a token is verified once per request. Event loop only; one per channel.
 */
public final class RequestGateHandler extends ChannelInboundHandlerAdapter {
    /** The last bearer header this connection's gate verified, and who it proved. */
    static final AttributeKey<Verified> VERIFIED = AttributeKey.valueOf(RequestGateHandler.class, "verified");

    record Verified(String authorization, Principal principal) {}

    /** How long a refused request's body may still arrive (and be discarded) after the answer. */
    private static final long REFUSAL_LINGER_MILLIS = 1000;

    private enum Mode {
        PASS,
        DISCARD_BODY,
        REFUSED
    }

    private final Router router;
    private final TokenVerifier tokens;
    private final BodyBudget budget;
    private final int maxBodyBytes;
    private final CourierMetrics metrics;
    private Mode mode = Mode.PASS;
    private long reservedBytes;
    private boolean refusalWritten;
    private boolean refusedBodyEnded;

    public RequestGateHandler(
            Router router, TokenVerifier tokens, BodyBudget budget, int maxBodyBytes, CourierMetrics metrics) {
        this.router = router;
        this.tokens = tokens;
        this.budget = budget;
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (mode == Mode.REFUSED && refusedBodyEnded) {
            // The connection is closing: pipelined requests after a refusal are not read.
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest head) {
            mode = decide(ctx, head);
            if (mode == Mode.REFUSED || mode == Mode.DISCARD_BODY && msg instanceof HttpContent) {
                // The head went on (DISCARD_BODY) or was answered (REFUSED); only its body part is left.
                if (mode == Mode.DISCARD_BODY) {
                    mode = Mode.PASS; // a decoder-made full request: ApiHandler answers it, body and all
                    ctx.fireChannelRead(msg);
                    return;
                }
                ReferenceCountUtil.release(msg);
                if (msg instanceof LastHttpContent) {
                    refusedBodyEnded(ctx);
                }
                return;
            }
            ctx.fireChannelRead(msg);
            if (msg instanceof LastHttpContent) {
                handedOn();
            }
            return;
        }
        if (!(msg instanceof HttpContent content)) {
            ctx.fireChannelRead(msg);
            return;
        }
        switch (mode) {
            case PASS -> {
                ctx.fireChannelRead(content);
                if (content instanceof LastHttpContent) {
                    handedOn();
                }
            }
            case DISCARD_BODY -> {
                boolean last = content instanceof LastHttpContent;
                content.release();
                if (last) {
                    mode = Mode.PASS;
                    ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            }
            case REFUSED -> {
                boolean last = content instanceof LastHttpContent;
                content.release();
                if (last) {
                    refusedBodyEnded(ctx);
                }
            }
        }
    }

    private Mode decide(ChannelHandlerContext ctx, HttpRequest head) {
        if (head.decoderResult().isFailure()) {
            return Mode.PASS; // ApiHandler answers 400 and closes
        }
        String path;
        try {
            path = new QueryStringDecoder(head.uri()).path();
        } catch (IllegalArgumentException e) {
            return Mode.PASS; // ApiHandler answers 400 and closes
        }
        Map<HttpMethod, Router.Entry> methods = router.methods(path);
        Router.Entry entry = methods == null ? null : methods.get(head.method());
        if (entry == null) {
            return Mode.DISCARD_BODY;
        }
        if (entry.authenticated()) {
            String authorization = head.headers().get(HttpHeaderNames.AUTHORIZATION);
            try {
                Principal principal = tokens.verifyBearer(authorization);
                ctx.channel().attr(VERIFIED).set(new Verified(authorization, principal));
            } catch (CourierException e) {
                metrics.authFailed(e.reason());
                refuse(ctx, head, path, e.code(), e.getMessage());
                return Mode.REFUSED;
            }
        }
        long bodyBytes = reservation(head);
        if (bodyBytes > 0 && !budget.tryReserve(bodyBytes)) {
            metrics.refused(ErrorCode.EOVERLOADED);
            refuse(
                    ctx,
                    head,
                    path,
                    ErrorCode.EOVERLOADED,
                    "request bodies being received hold the server's limit already; retry later");
            return Mode.REFUSED;
        }
        reservedBytes = bodyBytes;
        return Mode.PASS;
    }

    /** The most this request's body can hold in the aggregator. */
    private long reservation(HttpRequest head) {
        if (HttpUtil.isTransferEncodingChunked(head)) {
            return maxBodyBytes; // the aggregator answers 413 past it
        }
        long length = HttpUtil.getContentLength(head, 0L);
        // Over the limit, the aggregator answers 413 from the head without reading the body.
        return length > maxBodyBytes ? 0 : length;
    }

    private void refuse(ChannelHandlerContext ctx, HttpRequest head, String route, ErrorCode code, String message) {
        refusalWritten = false;
        refusedBodyEnded = false;
        FullHttpResponse response = HttpErrors.response(ctx.alloc(), code, message);
        if (code == ErrorCode.ETOKEN_INVALID) {
            // RFC 6750 section 3: a 401 for a bearer-protected resource names the scheme.
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
        }
        HttpUtil.setKeepAlive(response, false);
        metrics.httpRequest(route, head.method(), code.httpStatus(), code, 0);
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            refusalWritten = true;
            if (!f.isSuccess() || refusedBodyEnded) {
                ctx.close();
                return;
            }
            // The client may still be sending the body: closing now, with its bytes unread, would
            // reset the connection and could destroy the answer in flight. Half-close instead, keep
            // discarding, and close when the body ends or after a short linger, whichever is first.
            if (ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
            }
            ctx.executor().schedule(() -> ctx.close(), REFUSAL_LINGER_MILLIS, TimeUnit.MILLISECONDS);
        });
    }

    /** Closing with unread body bytes would reset the connection and could lose the answer. */
    private void refusedBodyEnded(ChannelHandlerContext ctx) {
        refusedBodyEnded = true;
        if (refusalWritten) {
            ctx.close();
        }
    }

    private void handedOn() {
        if (reservedBytes > 0) {
            budget.release(reservedBytes);
            reservedBytes = 0;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handedOn();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        handedOn();
    }
}
