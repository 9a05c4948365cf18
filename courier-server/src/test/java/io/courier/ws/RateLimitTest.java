package io.courier.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RateLimitTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void burstOfOneSecondIsAllowedThenRefused() {
        RateLimit limit = new RateLimit(3, 0);
        assertEquals(RateLimit.Verdict.ALLOW, limit.take(0));
        assertEquals(RateLimit.Verdict.ALLOW, limit.take(0));
        assertEquals(RateLimit.Verdict.ALLOW, limit.take(0));
        assertEquals(RateLimit.Verdict.REFUSE, limit.take(0));
    }

    @Test
    void tokensRefillWithTime() {
        RateLimit limit = new RateLimit(2, 0);
        limit.take(0);
        limit.take(0);
        assertEquals(RateLimit.Verdict.REFUSE, limit.take(0));
        assertEquals(RateLimit.Verdict.ALLOW, limit.take(SECOND / 2), "one token back after half a second at 2/s");
        assertEquals(RateLimit.Verdict.REFUSE, limit.take(SECOND / 2));
    }

    @Test
    void persistingPastTwiceTheLimitCloses() {
        RateLimit limit = new RateLimit(2, 0);
        limit.take(0);
        limit.take(0);
        assertEquals(RateLimit.Verdict.REFUSE, limit.take(0));
        assertEquals(RateLimit.Verdict.REFUSE, limit.take(0));
        assertEquals(RateLimit.Verdict.CLOSE, limit.take(0));
    }

    @Test
    void bucketNeverHoldsMoreThanOneSecond() {
        RateLimit limit = new RateLimit(2, 0);
        long later = 100 * SECOND;
        assertEquals(RateLimit.Verdict.ALLOW, limit.take(later));
        assertEquals(RateLimit.Verdict.ALLOW, limit.take(later));
        assertEquals(RateLimit.Verdict.REFUSE, limit.take(later), "idle time does not bank more than capacity");
    }
}
