package io.courier.pipeline;

import java.util.Arrays;
import java.util.List;

/**
 * Every handler Courier puts in a channel pipeline, in pipeline order, with the name it goes by.
 * The HTTP stages are added by {@code ServerInitializer}; the WebSocket stages replace the
 * {@link #isHttpOnly() HTTP-only} ones when {@code WebSocketUpgradeHandler} completes a handshake.
 * Netty's handshaker swaps {@link #HTTP_CODEC} for its own frame codecs under its own names.
 */
public enum Stage {
    /** Netty's PROXY protocol decoder, first when {@code courier.proxy.protocol} is on; removes itself. */
    PROXY_DECODER("proxy-decoder", false),
    /** Takes the decoded PROXY header's client address; removes itself. */
    PROXY("proxy", false),
    /** Sees the bytes of a head the codec has not decoded yet; leaves with {@link #TIMEOUT}. */
    HTTP_BYTES("http-bytes", false),
    HTTP_CODEC("http", false),
    TIMEOUT("timeout", true),
    CORS("cors", true),
    GATE("gate", true),
    AGGREGATOR("aggregator", true),
    FLOW("flow", true),
    /** Removes itself once the handshake response is written. */
    WS_UPGRADE("ws-upgrade", false),
    API("api", true),
    WS_UTF8("ws-utf8", false),
    WS_AGGREGATOR("ws-aggregator", false),
    WS_PING("ws-ping", false),
    WS_IDLE("ws-idle", false),
    /** Present exactly when a channel is an open WebSocket session. */
    WS_SESSION("ws-session", false),
    /** Added first when the server starts a close: swallows whatever the client still sends. */
    WS_DISCARD("ws-discard", false);

    private static final List<Stage> HTTP_ONLY =
            Arrays.stream(values()).filter(Stage::isHttpOnly).toList();

    private final String handlerName;
    private final boolean httpOnly;

    Stage(String handlerName, boolean httpOnly) {
        this.handlerName = handlerName;
        this.httpOnly = httpOnly;
    }

    /** The name the handler is added under. */
    public String handlerName() {
        return handlerName;
    }

    /** Whether the stage serves HTTP requests only and is removed once a connection becomes a WebSocket. */
    public boolean isHttpOnly() {
        return httpOnly;
    }

    /** The stages removed after a WebSocket handshake. */
    public static List<Stage> httpOnly() {
        return HTTP_ONLY;
    }
}
