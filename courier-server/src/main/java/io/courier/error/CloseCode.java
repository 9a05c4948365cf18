package io.courier.error;

/**
 * WebSocket close codes Courier sends. The 1000-range codes come from RFC 6455 section 7.4.1;
 * clients should reconnect after {@link #SHUTDOWN}, {@link #IDLE} and {@link #SLOW_CONSUMER} (with
 * back-off), and should not retry the same input after {@link #UNSUPPORTED_DATA} or
 * {@link #MESSAGE_TOO_BIG}. A text frame that is not valid UTF-8 is closed by Netty's decoder with
 * 1007 (RFC 6455 section 8.1).
 */
public enum CloseCode {
    /** Server shutting down: reconnect, with back-off (another instance or the restarted one). */
    SHUTDOWN(1001, "server shutting down"),
    /** No traffic, not even a pong, for the idle timeout: reconnect. */
    IDLE(1001, "idle timeout"),
    /** A binary frame: Courier speaks JSON text frames only. Do not retry. */
    UNSUPPORTED_DATA(1003, "binary frames are not supported"),
    /** The client could not keep up: its outbound buffer passed the slow-consumer bound. Reconnect. */
    SLOW_CONSUMER(1008, "slow consumer"),
    /** The client kept sending past twice its rate limit. Reconnect later, slower. */
    RATE_LIMITED(1008, "rate limit exceeded"),
    /** A frame larger than the configured maximum. Do not retry the same frame. */
    MESSAGE_TOO_BIG(1009, "frame too large"),
    /**
     * The bearer token the connection was opened with has expired (only with
     * {@code courier.ws.close.on.token.expiry}). Private-use range, RFC 6455 section 7.4.2.
     * Reconnect with a fresh token.
     */
    TOKEN_EXPIRED(4001, "token expired");

    private final int code;
    private final String reason;

    CloseCode(int code, String reason) {
        this.code = code;
        this.reason = reason;
    }

    public int code() {
        return code;
    }

    public String reason() {
        return reason;
    }
}
