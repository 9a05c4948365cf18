package io.courier.metrics;

/** Why a WebSocket connection ended; the {@code reason} label of {@code courier_connections_closed_total}. */
public enum CloseReason {
    /** The client closed it or the network dropped it. */
    CLIENT,
    IDLE,
    SLOW_CONSUMER,
    SHUTDOWN,
    /** A binary frame, an oversized frame or invalid UTF-8. */
    PROTOCOL_ERROR;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
