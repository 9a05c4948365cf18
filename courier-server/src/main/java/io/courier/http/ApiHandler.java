package io.courier.http;

import io.courier.auth.Principal;
import io.courier.auth.TokenVerifier;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.error.HttpErrors;
import io.courier.logging.RateLimitedLog;
import io.courier.metrics.CourierMetrics;
import io.courier.pipeline.ClientAddress;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last HTTP handler: finds the route for a request, takes its principal when the route needs
 * one (verified by {@link RequestGateHandler} before the body was read), and lets the route answer. Unknown path → 404, known path with another method → 405
 * with {@code Allow}. Event loop only; stateless, so one instance serves every channel.
 */
@ChannelHandler.Sharable
public final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    private static final RateLimitedLog outOfMemory = new RateLimitedLog(log, 10, TimeUnit.SECONDS);

    private final Router router;
    private final TokenVerifier tokens;
    private final CourierMetrics metrics;
    /** courier.api.envelope=data: the /v1 answers of the original Courier's shape. */
    private final boolean envelope;

    public ApiHandler(Router router, TokenVerifier tokens, CourierMetrics metrics, boolean envelope) {
        this.router = router;
        this.tokens = tokens;
        this.metrics = metrics;
        this.envelope = envelope;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        // One request at a time per connection: answers may complete on worker threads, and
        // HTTP/1.1 pipelining requires responses in request order. Exchange.send resumes reading.
        ctx.channel().config().setAutoRead(false);
        Exchange exchange = new Exchange(ctx, request, metrics);
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            // The decoder discards everything after a bad message: end the connection with the answer.
            exchange.closeAfterAnswer();
            exchange.fail(ErrorCode.EBODY_INVALID, "malformed HTTP request");
            return;
        }
        String path;
        try {
            path = new QueryStringDecoder(request.uri()).path();
        } catch (IllegalArgumentException e) {
            exchange.closeAfterAnswer();
            exchange.fail(ErrorCode.EBODY_INVALID, "malformed request URI");
            return;
        }
        Map<HttpMethod, Router.Entry> methods = router.methods(path);
        if (methods == null) {
            exchange.fail(ErrorCode.ENOT_FOUND, "no such endpoint: " + path);
            return;
        }
        exchange.route(path);
        // The REST API only: health, metrics and static files keep their own shapes.
        exchange.envelope(envelope && path.startsWith("/v1/"));
        Router.Entry entry = methods.get(request.method());
        if (entry == null && HttpMethod.OPTIONS.equals(request.method())) {
            // Not a CORS preflight (CorsHandler answers those): say what the path accepts.
            FullHttpResponse response =
                    new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.NO_CONTENT);
            response.headers().set(HttpHeaderNames.ALLOW, Router.allowHeader(methods));
            exchange.send(response);
            return;
        }
        if (entry == null) {
            FullHttpResponse response = HttpErrors.response(
                    ctx.alloc(), ErrorCode.EMETHOD_NOT_ALLOWED, request.method() + " not allowed on " + path);
            response.headers().set(HttpHeaderNames.ALLOW, Router.allowHeader(methods));
            exchange.send(response, ErrorCode.EMETHOD_NOT_ALLOWED);
            return;
        }
        try {
            if (entry.authenticated()) {
                exchange.principal(verify(ctx, request));
            }
            entry.route().handle(exchange);
        } catch (CourierException e) {
            exchange.fail(e);
        }
    }

    private Principal verify(ChannelHandlerContext ctx, FullHttpRequest request) {
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        RequestGateHandler.Verified verified =
                ctx.channel().attr(RequestGateHandler.VERIFIED).get();
        if (verified != null && verified.authorization().equals(authorization)) {
            // RequestGateHandler verified this very header from the request's head. It checks every
            // head, so a pipelined request with another token finds no match and is verified here.
            return verified.principal();
        }
        try {
            return tokens.verifyBearer(authorization);
        } catch (CourierException e) {
            metrics.authFailed(e.reason());
            throw e;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof OutOfMemoryError) {
            // Direct memory ran out while reading this connection (io.courier.DirectMemory): it alone
            // fails; the operator hears of it, at most every 10 s.
            var warning = outOfMemory.warning();
            if (warning != null) {
                warning.addKeyValue("remote", ClientAddress.of(ctx.channel()))
                        .log("closing a connection: {}", cause.toString());
            }
        } else {
            log.debug("HTTP connection error from {}: {}", ClientAddress.of(ctx.channel()), cause.toString());
        }
        ctx.close();
    }
}
