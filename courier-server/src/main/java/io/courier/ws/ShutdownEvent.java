package io.courier.ws;

/**
 * Fired down every pipeline when the server stops: a WebSocket session answers it by closing with
 * 1001 (and counting the close as a shutdown); HTTP pipelines ignore it.
 */
public final class ShutdownEvent {
    public static final ShutdownEvent INSTANCE = new ShutdownEvent();

    private ShutdownEvent() {}
}
