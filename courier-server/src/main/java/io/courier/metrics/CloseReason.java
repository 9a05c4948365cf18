package io.courier.metrics;

/** Why a WebSocket connection ended; the {@code reason} label of {@code courier_connections_closed_total}. */
public enum CloseReason {
    /** The client closed it or the network dropped it. */
    CLIENT,
    IDLE,
    SLOW_CONSUMER,
    SHUTDOWN,
    /** A binary frame, an oversized frame or invalid UTF-8. */
    PROTOCOL_ERROR,
    /** Kept sending past twice {@code courier.ws.rate.limit.per.second}. */
    RATE_LIMITED,
    /** The bearer token expired ({@code courier.ws.close.on.token.expiry}). */
    TOKEN_EXPIRED;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
