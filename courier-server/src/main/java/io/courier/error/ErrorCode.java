package io.courier.error;

/**
 * Courier's one error vocabulary. Every refusal, over HTTP or over a socket, names one of these
 * codes; clients match on the code, never on the message, so codes are stable and never reused.
 *
 * <p>Over HTTP the body is {@code {"error":{"code":"...","message":"..."}}} with {@link #httpStatus()}.
 * Over a socket the server answers {@code {"action":"error","code":"...","message":"..."}} and keeps
 * the connection open; the few failures that end a connection use {@link CloseCode} instead.
 */
public enum ErrorCode {
    /** Bearer JWT or signed connection key missing, malformed, expired or not verifiable. */
    ETOKEN_INVALID(401),
    /** The token's audience has not been created with {@code POST /v1/audience}. */
    EAUD_NOTFOUND(404),
    ETOPIC_NOTFOUND(404),
    /** Topic name empty, longer than 255 characters, or containing whitespace or control characters. */
    ETOPIC_INVALID(422),
    ETOPIC_EXISTS(409),
    /**
     * History settings past the server's maxima or malformed ({@code POST /v1/topic}), a malformed
     * {@code since} on a subscribe, or {@code GET /v1/history} on a topic that keeps no history.
     */
    EHISTORY_INVALID(422),
    /** Request body or socket frame is not the JSON the endpoint expects. */
    EBODY_INVALID(400),
    EBODY_TOO_LARGE(413),
    /** A publish or broadcast whose {@code message} is missing or not a JSON object. */
    EMESSAGE_INVALID(422),
    /** A socket frame whose {@code action} is missing or unknown. */
    EACTION_INVALID(422),
    /** The connection already holds the configured maximum number of subscriptions. */
    ESUBSCRIPTION_LIMIT(422),
    /**
     * Over a rate or count limit: a connection's frames ({@code courier.ws.rate.limit.per.second}),
     * an audience's hook calls ({@code courier.hook.rate.limit.per.second}) or open sockets
     * ({@code courier.audience.max.connections}).
     */
    ERATE_LIMITED(429),
    /** The request did not arrive completely within {@code courier.http.request.timeout.seconds}. */
    EREQUEST_TIMEOUT(408),
    ENOT_FOUND(404),
    EMETHOD_NOT_ALLOWED(405),
    /**
     * {@code /ws} requested without WebSocket upgrade headers, or for a WebSocket version other than
     * 13 (RFC 6455); the answer carries {@code Sec-WebSocket-Version: 13}.
     */
    EUPGRADE_REQUIRED(426),
    /** A version-13 upgrade that breaks RFC 6455 section 4.2.1 (a missing, repeated or malformed {@code Sec-WebSocket-Key}). */
    EHANDSHAKE_INVALID(400),
    /** An {@code Expect} header other than {@code 100-continue}. */
    EEXPECTATION_FAILED(417),
    /** The database could not be reached within the configured timeout; retry later. */
    EDB_UNAVAILABLE(503),
    /** The server is shutting down or its worker queue is full; retry later. */
    EUNAVAILABLE(503),
    /**
     * The request bodies being received hold {@code courier.http.max.buffered.bytes} already; retry
     * later. The connection is closed.
     */
    EOVERLOADED(503),
    /**
     * Cluster mode: NATS is unreachable and the publishes held for it fill the reconnect buffer, so
     * this one was refused before any delivery (no subscriber, local or remote, received it); retry
     * later.
     */
    ECLUSTER_UNAVAILABLE(503),
    /**
     * Socket only, before a close with {@link CloseCode#INSUFFICIENT_STATE}: a history topic lost a
     * message between the nodes; the frame names the topic, and the client resubscribes with
     * {@code since} to recover it.
     */
    EHISTORY_GAP(503),
    EINTERNAL(500);

    private final int httpStatus;

    ErrorCode(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
