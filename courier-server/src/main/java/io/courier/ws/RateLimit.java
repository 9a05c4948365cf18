package io.courier.ws;

/**
 * A token bucket per connection: {@code perSecond} tokens a second, holding at most
 * {@code perSecond}, so a client may burst up to one second's worth. Event loop only.
 */
final class RateLimit {
    /** What a frame gets: through, refused with an error frame, or the connection closed. */
    enum Verdict { ALLOW, REFUSE, CLOSE }

    private final double perNano;
    private final double capacity;
    private double tokens;
    private long lastNanos;
    /** Frames refused since the bucket last had a token; past {@link #capacity} the client is not listening. */
    private int refusedInARow;

    RateLimit(int perSecond, long nowNanos) {
        this.perNano = perSecond / 1e9;
        this.capacity = perSecond;
        this.tokens = perSecond;
        this.lastNanos = nowNanos;
    }

    Verdict take(long nowNanos) {
        tokens = Math.min(capacity, tokens + (nowNanos - lastNanos) * perNano);
        lastNanos = nowNanos;
        if (tokens >= 1) {
            tokens -= 1;
            refusedInARow = 0;
            return Verdict.ALLOW;
        }
        // Twice the limit: a second's worth of frames refused on top of a full bucket spent.
        return ++refusedInARow > capacity ? Verdict.CLOSE : Verdict.REFUSE;
    }
}
