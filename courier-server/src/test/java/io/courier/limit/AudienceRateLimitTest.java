package io.courier.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The hook's token bucket per audience, driven by a clock of the test's own. */
class AudienceRateLimitTest {
    private static final long SECOND = 1_000_000_000L;

    private long now = 123_456_789L;

    private AudienceRateLimit limit(int perSecond) {
        return new AudienceRateLimit(perSecond, () -> now);
    }

    @Test
    void burstOfOneSecondsWorthPassesThenIsRefused() {
        AudienceRateLimit limit = limit(3);
        assertTrue(limit.tryAcquire("a"));
        assertTrue(limit.tryAcquire("a"));
        assertTrue(limit.tryAcquire("a"));
        assertFalse(limit.tryAcquire("a"), "the fourth call in the same instant");
    }

    @Test
    void oneCallComesBackPerIntervalAtTheConfiguredRate() {
        AudienceRateLimit limit = limit(4);
        for (int i = 0; i < 4; i++) {
            limit.tryAcquire("a");
        }
        assertFalse(limit.tryAcquire("a"));
        now += SECOND / 4;
        assertTrue(limit.tryAcquire("a"), "a quarter second at 4/s earns one call");
        assertFalse(limit.tryAcquire("a"));
        now += 10 * SECOND;
        int passed = 0;
        while (limit.tryAcquire("a")) {
            passed++;
        }
        assertEquals(4, passed, "idle time banks no more than one second's worth");
    }

    @Test
    void audiencesHaveBucketsOfTheirOwn() {
        AudienceRateLimit limit = limit(2);
        limit.tryAcquire("a");
        limit.tryAcquire("a");
        assertFalse(limit.tryAcquire("a"));
        assertTrue(limit.tryAcquire("b"));
        assertTrue(limit.tryAcquire("b"), "b's bucket is full while a's is empty");
    }

    @Test
    void sustainedCallsPassAtTheRateExactly() {
        AudienceRateLimit limit = limit(10);
        int passed = 0;
        // An attempt every millisecond from 0 to 5 s inclusive: the burst of 10 at once, then one per 100 ms.
        for (int ms = 0; ms <= 5_000; ms++) {
            if (limit.tryAcquire("a")) {
                passed++;
            }
            now += SECOND / 1_000;
        }
        assertEquals(10 + 50, passed, "the burst plus 10/s over 5 s");
    }

    @Test
    void sweepForgetsOnlyAudiencesWhoseBucketIsFullAgain() {
        AudienceRateLimit limit = limit(2);
        limit.tryAcquire("idle");
        now += SECOND;
        limit.tryAcquire("busy");
        limit.tryAcquire("busy");
        limit.sweep();
        assertEquals(1, limit.size(), "idle is forgotten, busy is kept");
        assertFalse(limit.tryAcquire("busy"), "busy's spent bucket survives the sweep");
        assertTrue(limit.tryAcquire("idle"));
        assertTrue(limit.tryAcquire("idle"), "a forgotten audience starts with a full bucket, as it would have");
    }

    @Test
    void offAllowsEverythingAndKeepsNothing() {
        AudienceRateLimit limit = limit(0);
        for (int i = 0; i < 100; i++) {
            assertTrue(limit.tryAcquire("a" + i));
        }
        assertEquals(0, limit.size());
    }
}
