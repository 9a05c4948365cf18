package io.courier;

import io.courier.auth.TokenVerifier;
import io.courier.config.Config;
import io.courier.http.ApiHandler;
import io.courier.http.BodyBudget;
import io.courier.http.BodyLimitAggregator;
import io.courier.http.RequestGateHandler;
import io.courier.http.RequestTimeoutHandler;
import io.courier.http.Router;
import io.courier.limit.ConnectionLimitHandler;
import io.courier.limit.ProxyProtocolHandler;
import io.courier.metrics.CourierMetrics;
import io.courier.pipeline.Stage;
import io.courier.ws.WebSocketUpgradeHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import io.netty.handler.flow.FlowControlHandler;

/**
 * The one place the pipeline is assembled; handler names are the {@link Stage}s. Every connection
 * starts as HTTP (behind {@code proxy-decoder → proxy} with {@code courier.proxy.protocol}, which leave
 * once the PROXY header is read):
 * <pre>
 *   http-bytes → http (codec) → timeout (header and request deadlines) → cors → gate (auth, body budget) → aggregator (body limit) → flow (one request at a time) → ws-upgrade → api (router)
 * </pre>
 * A valid upgrade at {@code /ws} replaces the {@link Stage#isHttpOnly() HTTP-only} handlers with
 * WebSocket ones (see {@link WebSocketUpgradeHandler}); any other request is answered by the router:
 * <pre>
 *   wsdecoder/wsencoder (Netty's) → ws-utf8 → ws-aggregator → ws-ping → ws-idle → ws-session
 * </pre>
 *
 * <p>HAZARD for anyone adding an outbound handler: fan-out deliveries (publish and broadcast
 * frames, pre-encoded with their WebSocket header by {@code hub.Frames}) are written from the
 * pipeline's FIRST context ({@code hub.Subscriber}), so they bypass every handler, Netty's
 * WebSocket frame encoder included, and go straight to the socket. Only the server's own replies
 * (connected, acks, errors, pongs, close frames) pass the outbound handlers. A handler that must see
 * every outbound byte (compression, accounting, tracing) sees none of the deliveries.
 */
final class ServerInitializer extends ChannelInitializer<SocketChannel> {

    private final Config config;
    private final CorsConfig cors;
    private final WebSocketUpgradeHandler upgrade;
    private final ApiHandler api;
    private final ChannelGroup openChannels;
    private final Router router;
    private final TokenVerifier verifier;
    private final BodyBudget bodyBudget;
    private final CourierMetrics metrics;
    private final ConnectionLimitHandler limits;

    ServerInitializer(
            Config config,
            WebSocketUpgradeHandler upgrade,
            ApiHandler api,
            ChannelGroup openChannels,
            Router router,
            TokenVerifier verifier,
            BodyBudget bodyBudget,
            CourierMetrics metrics,
            ConnectionLimitHandler limits) {
        this.config = config;
        this.limits = limits;
        this.router = router;
        this.verifier = verifier;
        this.bodyBudget = bodyBudget;
        this.metrics = metrics;
        this.upgrade = upgrade;
        this.api = api;
        this.openChannels = openChannels;
        CorsConfigBuilder builder = config.corsOrigins().isEmpty()
                ? CorsConfigBuilder.forAnyOrigin()
                : CorsConfigBuilder.forOrigins(config.corsOrigins().toArray(new String[0]));
        this.cors = builder.allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.OPTIONS)
                .allowedRequestHeaders("Authorization", "Content-Type")
                .maxAge(600)
                .build();
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        openChannels.add(ch);
        ChannelPipeline p = ch.pipeline();
        if (config.proxyProtocol()) {
            // First: nothing else may read a byte before the header naming the client is consumed.
            ProxyProtocolHandler.addTo(p, limits);
        }
        RequestTimeoutHandler timeout = new RequestTimeoutHandler(config.requestTimeout(), config.headerTimeout());
        // Sees the bytes of a head the codec has not decoded yet; removed with the timeout handler.
        p.addLast(Stage.HTTP_BYTES.handlerName(), timeout.byteWatcher());
        p.addLast(Stage.HTTP_CODEC.handlerName(), new HttpServerCodec(4096, 8192, 8192));
        p.addLast(Stage.TIMEOUT.handlerName(), timeout);
        // Before the gate: preflights need no token, and refusals carry the CORS headers too.
        p.addLast(Stage.CORS.handlerName(), new CorsHandler(cors));
        // Authenticates and budgets a request from its head, before the aggregator reads its body.
        p.addLast(
                Stage.GATE.handlerName(),
                new RequestGateHandler(router, verifier, bodyBudget, config.maxBodyBytes(), metrics));
        p.addLast(Stage.AGGREGATOR.handlerName(), new BodyLimitAggregator(config.maxBodyBytes()));
        // Hands on one request per read while the router has paused reading, so pipelined requests
        // are answered in order even when an answer completes on a worker thread.
        p.addLast(Stage.FLOW.handlerName(), new FlowControlHandler());
        p.addLast(Stage.WS_UPGRADE.handlerName(), upgrade);
        p.addLast(Stage.API.handlerName(), api);
    }
}
