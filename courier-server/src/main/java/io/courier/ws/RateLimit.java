package io.courier.ws;

/**
 * The per-connection frame limit, {@code perSecond} = L. Two buckets of L, both refilled or drained
 * continuously at L a second:
 * <ul>
 * <li>the token bucket: a frame takes a token; a client may burst up to L frames at once;</li>
 * <li>the refusal bucket: a frame refused for want of a token adds one; it drains at L a second.
 *     The frame that would overflow it closes the connection.</li>
 * </ul>
 * That is what "still sending past twice the limit" means: a connection that keeps sending faster
 * than 2L frames a second (L accepted, more than L refused, each second), or more than 2L frames in
 * one burst, is closed; at 2L a second or less it is refused but stays open. At 3L a second a client
 * is closed after about 1.5 s (0.5 s to empty the token bucket, 1 s to fill the refusal bucket).
 * The refusals are never forgotten by a refill, which once let 150 frames a second at L = 50 go on
 * for ever with 250 refusals and no close. Event loop only.
 */
final class RateLimit {
    /** What a frame gets: through, refused with an error frame, or the connection closed. */
    enum Verdict {
        ALLOW,
        REFUSE,
        CLOSE
    }

    private final double perNano;
    private final double capacity;
    private double tokens;
    private double refused;
    private long lastNanos;

    RateLimit(int perSecond, long nowNanos) {
        this.perNano = perSecond / 1e9;
        this.capacity = perSecond;
        this.tokens = perSecond;
        this.lastNanos = nowNanos;
    }

    Verdict take(long nowNanos) {
        double elapsed = Math.max(0, nowNanos - lastNanos) * perNano;
        lastNanos = nowNanos;
        tokens = Math.min(capacity, tokens + elapsed);
        refused = Math.max(0, refused - elapsed);
        if (tokens >= 1) {
            tokens -= 1;
            return Verdict.ALLOW;
        }
        if (refused + 1 > capacity) {
            return Verdict.CLOSE;
        }
        refused += 1;
        return Verdict.REFUSE;
    }
}
