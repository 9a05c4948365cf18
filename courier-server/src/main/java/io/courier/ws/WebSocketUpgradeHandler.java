package io.courier.ws;

import io.courier.auth.ConnectionKeys;
import io.courier.auth.Principal;
import io.courier.cluster.Broker;
import io.courier.config.Config;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.error.HttpErrors;
import io.courier.history.HistoryEngine;
import io.courier.hub.Hub;
import io.courier.limit.KeyedCounts;
import io.courier.metrics.CourierMetrics;
import io.courier.pipeline.Stage;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Guards {@code GET /ws?token=KEY}: refuses requests that are not WebSocket upgrades or not version
 * 13 (426), malformed RFC 6455 handshakes (400) and requests without a valid signed key (401, no
 * upgrade), then performs the handshake and turns the HTTP pipeline into a WebSocket one. Every other request passes through to the REST handlers.
 * Event loop only; stateless, so one instance serves every channel.
 */
@ChannelHandler.Sharable
public final class WebSocketUpgradeHandler extends ChannelInboundHandlerAdapter {
    public static final String PATH = "/ws";
    /** The refusal reason (and metric label) of a handshake for a version other than 13. */
    private static final String UNSUPPORTED_VERSION = "unsupported_version";

    private final ConnectionKeys keys;
    private final Hub hub;
    private final Broker cluster;
    /** Null in a cluster (for now) and where a test runs without history. */
    private final HistoryEngine histories;

    private final CourierMetrics metrics;
    private final Config config;
    private final WebSocketDecoderConfig decoderConfig;
    /** Open sockets per audience, taken before the handshake and given back when the channel closes. */
    private final KeyedCounts<String> audienceSockets = new KeyedCounts<>();

    public WebSocketUpgradeHandler(ConnectionKeys keys, Hub hub, Config config, CourierMetrics metrics) {
        this(keys, hub, null, config, metrics);
    }

    /** @param cluster the fan-out between nodes, or null on a single node */
    public WebSocketUpgradeHandler(
            ConnectionKeys keys, Hub hub, Broker cluster, Config config, CourierMetrics metrics) {
        this(keys, hub, cluster, null, config, metrics);
    }

    /** @param histories the single node's topic histories, or null */
    public WebSocketUpgradeHandler(
            ConnectionKeys keys,
            Hub hub,
            Broker cluster,
            HistoryEngine histories,
            Config config,
            CourierMetrics metrics) {
        this.keys = keys;
        this.hub = hub;
        this.cluster = cluster;
        this.histories = histories;
        this.metrics = metrics;
        this.config = config;
        this.decoderConfig = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(config.maxFrameBytes())
                .allowExtensions(false)
                // SessionHandler sends the close frame itself, so every server-initiated close is graceful.
                .closeOnProtocolViolation(false)
                .withUTF8Validator(true)
                .build();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!PATH.equals(rawPath(request.uri()))) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            upgrade(ctx, request, new QueryStringDecoder(request.uri()));
        } catch (IllegalArgumentException e) {
            // QueryStringDecoder on a malformed percent-escape in the query.
            refuse(ctx, request, new CourierException(ErrorCode.EBODY_INVALID, "malformed request URI"));
        } catch (CourierException e) {
            refuse(ctx, request, e);
        } finally {
            ReferenceCountUtil.release(request);
        }
    }

    /** The path as sent, without decoding (decoding may fail on a bad escape; "/ws" has none). */
    private static String rawPath(String uri) {
        int end = uri.length();
        for (int i = 0; i < uri.length(); i++) {
            char ch = uri.charAt(i);
            if (ch == '?' || ch == '#') {
                end = i;
                break;
            }
        }
        return uri.substring(0, end);
    }

    private void refuse(ChannelHandlerContext ctx, FullHttpRequest request, CourierException e) {
        metrics.handshakeRefused(e.reason());
        FullHttpResponse response = HttpErrors.response(ctx.alloc(), e.code(), e.getMessage());
        if (e.code() == ErrorCode.EUPGRADE_REQUIRED) {
            response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            // RFC 6455 section 4.4: name the versions the server speaks.
            response.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
        } else if (e.code() == ErrorCode.EMETHOD_NOT_ALLOWED) {
            response.headers().set(HttpHeaderNames.ALLOW, "GET");
        }
        // A refused upgrade attempt may be followed by bytes that are not HTTP (Hixie-76 sends 8 key
        // bytes after the head), so only a plain GET without upgrade headers keeps the connection.
        boolean keepAlive = HttpUtil.isKeepAlive(request)
                && e.code() != ErrorCode.ETOKEN_INVALID
                && e.code() != ErrorCode.EBODY_INVALID
                && e.code() != ErrorCode.EHANDSHAKE_INVALID
                && !UNSUPPORTED_VERSION.equals(e.reason());
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * Only RFC 6455 is spoken (section 4.2.1): exactly one {@code Sec-WebSocket-Version: 13}, else 426
     * (a missing version is one of the Hixie drafts); exactly one {@code Sec-WebSocket-Key} that
     * decodes from base64 to 16 bytes, else 400.
     */
    private static void checkRfc6455(FullHttpRequest request) {
        List<String> versions = request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        if (versions.size() != 1 || !"13".equals(versions.get(0).trim())) {
            throw new CourierException(
                    ErrorCode.EUPGRADE_REQUIRED,
                    UNSUPPORTED_VERSION,
                    "Sec-WebSocket-Version: " + (versions.isEmpty() ? "missing" : String.join(", ", versions))
                            + " (expected: 13)");
        }
        List<String> keys = request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (keys.size() != 1 || !isNonce(keys.get(0).trim())) {
            throw new CourierException(
                    ErrorCode.EHANDSHAKE_INVALID,
                    "Sec-WebSocket-Key: " + (keys.isEmpty() ? "missing" : keys.size() > 1 ? "repeated" : "malformed")
                            + " (expected: one base64-encoded 16-byte value)");
        }
    }

    private static boolean isNonce(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private void upgrade(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        if (!HttpMethod.GET.equals(request.method())) {
            throw new CourierException(ErrorCode.EMETHOD_NOT_ALLOWED, request.method() + " not allowed on " + PATH);
        }
        if (!request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                || !request.headers().contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            throw new CourierException(
                    ErrorCode.EUPGRADE_REQUIRED, "not_upgrade", PATH + " needs a WebSocket upgrade request");
        }
        checkRfc6455(request);
        List<String> token = uri.parameters().get("token");
        Principal principal = keys.verify(token == null || token.isEmpty() ? null : token.get(0));

        String location = "ws://" + request.headers().get(HttpHeaderNames.HOST, "localhost") + PATH;
        WebSocketServerHandshaker handshaker = new Rfc6455Handshaker(location, decoderConfig);
        ChannelPipeline pipeline = ctx.pipeline();
        // courier.audience.max.connections: checked and taken in one step, as two event loops may race for the last
        // slot.
        int audienceMax = config.limits().audienceMaxConnections();
        if (audienceMax > 0) {
            String audience = principal.audience();
            if (!audienceSockets.tryAcquire(audience, audienceMax)) {
                throw new CourierException(
                        ErrorCode.ERATE_LIMITED,
                        "audience_max_connections",
                        "the audience holds courier.audience.max.connections sockets already; retry later");
            }
            ctx.channel().closeFuture().addListener(f -> audienceSockets.release(audience));
        }
        SessionHandler session =
                new SessionHandler(hub, cluster, histories, principal, config, metrics, System::nanoTime);
        // The handshaker swaps the HTTP codec for WebSocket frame codecs; the rest of the HTTP
        // pipeline goes once the 101 response is written (before that, a pre-encoded frame would
        // still meet the HTTP encoder).
        handshaker.handshake(ctx.channel(), request).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                f.channel().close();
                return;
            }
            for (Stage stage : Stage.httpOnly()) {
                if (pipeline.get(stage.handlerName()) != null) {
                    pipeline.remove(stage.handlerName());
                }
            }
            pipeline.remove(WebSocketUpgradeHandler.this);
            // RFC 6455 section 8.1: a text frame that is not UTF-8 fails the connection (1007).
            // Netty adds this check only inside WebSocketServerProtocolHandler, which we don't use.
            pipeline.addLast(Stage.WS_UTF8.handlerName(), new Utf8FrameValidator(false));
            pipeline.addLast(Stage.WS_AGGREGATOR.handlerName(), new WebSocketFrameAggregator(config.maxFrameBytes()));
            // Keepalive is judged by what the client sends: a subscriber that only receives traffic
            // is still pinged, and must answer. Ping after each ping interval without a read; close
            // once nothing at all was read for the idle timeout.
            pipeline.addLast(
                    Stage.WS_PING.handlerName(),
                    new IdleStateHandler(config.pingInterval().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
            pipeline.addLast(
                    Stage.WS_IDLE.handlerName(),
                    new ReadTimeoutHandler(config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
            pipeline.addLast(Stage.WS_SESSION.handlerName(), session);
            session.start(pipeline.context(session));
        });
    }
}
