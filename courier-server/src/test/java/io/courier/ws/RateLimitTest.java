package io.courier.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
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

    /** Sends {@code count} frames evenly at {@code perSecond} from time 0; returns the verdicts counted. */
    private static Map<RateLimit.Verdict, Integer> send(RateLimit limit, int perSecond, int count) {
        Map<RateLimit.Verdict, Integer> verdicts = new EnumMap<>(RateLimit.Verdict.class);
        for (int i = 0; i < count; i++) {
            RateLimit.Verdict v = limit.take(i * SECOND / perSecond);
            verdicts.merge(v, 1, Integer::sum);
            if (v == RateLimit.Verdict.CLOSE) {
                break;
            }
        }
        return verdicts;
    }

    @Test
    void threeTimesTheLimitClosesWithinTwoSeconds() {
        // The case: limit 50, 150 frames/s for 3 s. Refills used to forget the refusals, so it never closed.
        var verdicts = send(new RateLimit(50, 0), 150, 450);
        assertEquals(1, verdicts.get(RateLimit.Verdict.CLOSE), "closed: " + verdicts);
        int sent = verdicts.values().stream().mapToInt(Integer::intValue).sum();
        // 0.5 s empties the token bucket, then 1 s fills the refusal bucket: about 1.5 s, 225 frames.
        assertTrue(sent >= 220 && sent <= 230, "closed after about 1.5 s at 150/s, frame " + sent + ": " + verdicts);
    }

    @Test
    void twiceTheLimitIsRefusedButNeverClosed() {
        var verdicts = send(new RateLimit(50, 0), 100, 100 * 60);
        assertEquals(null, verdicts.get(RateLimit.Verdict.CLOSE), "a minute at exactly 2x: " + verdicts);
        assertTrue(verdicts.get(RateLimit.Verdict.REFUSE) > 2500, "half of it refused: " + verdicts);
    }

    @Test
    void justOverTwiceTheLimitIsClosedEventually() {
        var verdicts = send(new RateLimit(50, 0), 110, 110 * 60);
        assertEquals(
                1,
                verdicts.get(RateLimit.Verdict.CLOSE),
                "10 frames/s of refusals over the drain fill 50 in 5 s: " + verdicts);
    }

    @Test
    void burstOfTwiceTheLimitIsRefusedAndOneMoreCloses() {
        RateLimit limit = new RateLimit(5, 0);
        for (int i = 0; i < 5; i++) {
            assertEquals(RateLimit.Verdict.ALLOW, limit.take(0));
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(RateLimit.Verdict.REFUSE, limit.take(0));
        }
        assertEquals(RateLimit.Verdict.CLOSE, limit.take(0), "frame 2L + 1 of one burst");
    }

    @Test
    void refusalsDrainAtTheLimitRate() {
        RateLimit limit = new RateLimit(5, 0);
        for (int i = 0; i < 10; i++) {
            limit.take(0); // 5 allowed, 5 refused: both buckets at their bound
        }
        // After one quiet second both buckets are back to where they started: another 2L burst fits.
        for (int i = 0; i < 5; i++) {
            assertEquals(RateLimit.Verdict.ALLOW, limit.take(SECOND));
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(RateLimit.Verdict.REFUSE, limit.take(SECOND));
        }
        assertEquals(RateLimit.Verdict.CLOSE, limit.take(SECOND));
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
