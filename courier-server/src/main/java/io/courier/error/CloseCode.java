package io.courier.error;

/**
 * WebSocket close codes Courier sends. The 1000-range codes come from RFC 6455 section 7.4.1;
 * clients should reconnect after {@link #SHUTDOWN}, {@link #IDLE} and {@link #SLOW_CONSUMER} (with
 * back-off), and should not retry the same input after {@link #UNSUPPORTED_DATA} or
 * {@link #MESSAGE_TOO_BIG}.
 */
public enum CloseCode {
    /** Server shutting down: reconnect, with back-off (another instance or the restarted one). */
    SHUTDOWN(1001, "server shutting down"),
    /** No traffic, not even a pong, for the idle timeout: reconnect. */
    IDLE(1001, "idle timeout"),
    /**
     * A WebSocket protocol violation (RFC 6455 section 7.4.1): an unmasked frame, reserved bits or
     * opcodes, or a client close frame with a code no endpoint may send or a reason that is not UTF-8.
     * Do not retry.
     */
    PROTOCOL_ERROR(1002, "protocol error"),
    /** A binary frame: Courier speaks JSON text frames only. Do not retry. */
    UNSUPPORTED_DATA(1003, "binary frames are not supported"),
    /** A text frame that is not valid UTF-8 (RFC 6455 section 8.1). Do not retry. */
    INVALID_UTF8(1007, "invalid UTF-8"),
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

    /**
     * Whether {@code code} may appear in a close frame on the wire, so a client may send it and the
     * server may echo it. RFC 6455 section 7.4: 1004 is reserved, and 1005, 1006 and 1015 MUST NOT
     * be sent; 1016-2999 are reserved for future RFCs; 3000-4999 are for libraries and applications;
     * nothing outside 1000-4999 is defined. 1012-1014 are in IANA's registry (RFC 6455 section 11.7).
     */
    public static boolean isValidOnWire(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }
}
