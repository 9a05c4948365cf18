package io.courier.error;

/**
 * WebSocket close codes Courier sends. The 1000-range codes come from RFC 6455 section 7.4.1;
 * clients should reconnect after {@link #SHUTDOWN}, {@link #IDLE}, {@link #SLOW_CONSUMER} and
 * {@link #OUTBOUND_BUDGET} (with back-off), and at once after {@link #INSUFFICIENT_STATE}, and should not retry the same input after {@link #UNSUPPORTED_DATA} or
 * {@link #MESSAGE_TOO_BIG}.
 *
 * <p>Each entry carries the code and reason text of its close frame and the {@code reason} label it
 * counts under in {@code courier_connections_closed_total}. Several entries share a label (every
 * protocol failure is {@code protocol_error}); a connection the client closed, or the network
 * dropped, counts under {@link #CLOSED_BY_CLIENT}. Dashboards depend on the labels: keep them.
 */
public enum CloseCode {
    /** Server shutting down: reconnect, with back-off (another instance or the restarted one). */
    SHUTDOWN(1001, "server shutting down", "shutdown"),
    /** No traffic, not even a pong, for the idle timeout: reconnect. */
    IDLE(1001, "idle timeout", "idle"),
    /**
     * A WebSocket protocol violation (RFC 6455 section 7.4.1): an unmasked frame, reserved bits or
     * opcodes, or a client close frame with a code no endpoint may send or a reason that is not UTF-8.
     * Do not retry.
     */
    PROTOCOL_ERROR(1002, "protocol error", "protocol_error"),
    /** A binary frame: Courier speaks JSON text frames only. Do not retry. */
    UNSUPPORTED_DATA(1003, "binary frames are not supported", "protocol_error"),
    /** A text frame that is not valid UTF-8 (RFC 6455 section 8.1). Do not retry. */
    INVALID_UTF8(1007, "invalid UTF-8", "protocol_error"),
    /** The client could not keep up: its outbound buffer passed the slow-consumer bound. Reconnect. */
    SLOW_CONSUMER(1008, "slow consumer", "slow_consumer"),
    /**
     * The server's unsent outbound bytes passed {@code courier.ws.outbound.max.bytes} and stayed
     * over it, and this connection was among those holding the most. Counted as a slow consumer:
     * the client should do the same (reconnect with back-off). Reconnect.
     */
    OUTBOUND_BUDGET(1008, "server outbound budget", "slow_consumer"),
    /** The client kept sending past twice its rate limit. Reconnect later, slower. */
    RATE_LIMITED(1008, "rate limit exceeded", "rate_limited"),
    /** A frame larger than the configured maximum. Do not retry the same frame. */
    MESSAGE_TOO_BIG(1009, "frame too large", "protocol_error"),
    /**
     * The bearer token the connection was opened with has expired (only with
     * {@code courier.ws.close.on.token.expiry}). Private-use range, RFC 6455 section 7.4.2.
     * Reconnect with a fresh token.
     */
    TOKEN_EXPIRED(4001, "token expired", "token_expired"),
    /**
     * A history topic this connection subscribes to lost a message between the nodes of a cluster
     * (the stream's sequence numbers skipped one): an {@code EHISTORY_GAP} error frame naming the
     * topic precedes the close. Reconnect at once and resubscribe with {@code since}; recovery
     * fills the gap. Centrifuge's code for the same ("insufficient state").
     */
    INSUFFICIENT_STATE(3010, "insufficient state", "insufficient_state");

    /** The metric label of a connection the client closed or the network dropped. */
    public static final String CLOSED_BY_CLIENT = "client";

    private final int code;
    private final String reason;
    private final String metricLabel;

    CloseCode(int code, String reason, String metricLabel) {
        this.code = code;
        this.reason = reason;
        this.metricLabel = metricLabel;
    }

    public int code() {
        return code;
    }

    public String reason() {
        return reason;
    }

    /** The {@code reason} label of {@code courier_connections_closed_total}. */
    public String metricLabel() {
        return metricLabel;
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
