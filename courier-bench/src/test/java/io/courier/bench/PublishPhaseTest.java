package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The arithmetic of a publishing phase, on made-up clocks and counts: when it ends, how far publishers may run ahead, the stall. */
class PublishPhaseTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private static final long T0 = 1_000 * S;

    /** Publishers done, {@code received} of 100 expected: not over a nanosecond before {@code endNanos}, over at it. */
    private static void assertEndsAt(Drain drain, long received, long endNanos) {
        assertFalse(drain.drained(true, received, 100, endNanos - 1));
        assertTrue(drain.drained(true, received, 100, endNanos));
    }

    @Test
    void aPhaseIsNotDrainedWhilePublishersRunEvenWithEverythingDelivered() {
        Drain drain = new Drain(T0, 20 * S, 30, 0);
        assertFalse(drain.drained(false, 100, 100, T0 + S));
        assertTrue(drain.drained(true, 100, 100, T0 + S));
    }

    @Test
    void fiveSecondsWithoutADeliveryEndTheDrainAndEachDeliveryRestartsThatClock() {
        Drain drain = new Drain(T0, 20 * S, 30, 50);
        assertFalse(drain.drained(true, 60, 100, T0 + 21 * S));
        assertEndsAt(drain, 60, T0 + 26 * S);
        assertEquals(
                T0 + 21 * S,
                drain.lastChangeNanos(),
                "the drain ended with the last delivery, not when it was noticed");
    }

    @Test
    void deliveriesSeenWhilePublishingCountAsProgress() {
        Drain drain = new Drain(T0, 20 * S, 30, 0);
        drain.drained(false, 10, 100, T0 + 19 * S);
        assertEndsAt(drain, 10, T0 + 24 * S);
    }

    @Test
    void theDrainTimeoutEndsAPhaseThatStillTrickles() {
        Drain drain = new Drain(T0, 20 * S, 3, 0);
        assertFalse(drain.drained(true, 1, 100, T0 + 22 * S));
        assertEndsAt(drain, 2, T0 + 23 * S);
    }

    @Test
    void onlyAnUnpacedPhaseIsHeldBackByTheLagOfTheSubscribersThatRead() {
        LoadOptions options = LoadPlanTest.parse("--size", "100");
        long[] reading = {400, 600};
        assertEquals(1000 * 1000, PublishPhase.lagLimit(0, options, reading));
        assertEquals(Long.MAX_VALUE, PublishPhase.lagLimit(50, options, reading), "a paced phase is open loop");
        assertEquals(
                Long.MAX_VALUE,
                PublishPhase.lagLimit(0, LoadPlanTest.parse("--max-lag", "0"), reading),
                "--max-lag 0 is off");
        assertEquals(
                1000,
                PublishPhase.lagLimit(0, options, new long[] {0, 0}),
                "no reader still lets one message per bound out");
    }

    @Test
    void withoutAStallThePhaseHasNoneAndAllLatencyIsBeforeIt() {
        SlowStall stall = new SlowStall(Long.MAX_VALUE, 0);
        assertFalse(stall.due(Long.MAX_VALUE - 1));
        assertFalse(stall.awaitingCuts());
        assertNull(stall.result(T0));
        assertSame(stall.stage(), stall.stage());
    }

    @Test
    void theServersCountOfClosesDatesEachCutOffAfterTheStall() {
        SlowStall stall = new SlowStall(T0 + 10 * S, 2);
        assertFalse(stall.due(T0 + 10 * S - 1));
        assertTrue(stall.due(T0 + 10 * S));
        var before = stall.stage();
        stall.stalled(3, T0 + 10 * S);
        assertFalse(stall.due(T0 + 11 * S), "the slow subscribers stall once");
        var whileStalled = stall.stage();
        assertTrue(stall.awaitingCuts());

        stall.closesSeen(-1, T0 + 11 * S); // a failed scrape
        stall.closesSeen(2, T0 + 11 * S);
        stall.closesSeen(3, T0 + 12 * S);
        stall.closesSeen(5, T0 + 14 * S);

        assertFalse(stall.awaitingCuts());
        var afterCut = stall.stage();
        assertFalse(before == whileStalled || whileStalled == afterCut || before == afterCut);
        Summary.Stall result = stall.result(T0);
        assertEquals(10.0, result.atSeconds());
        assertEquals(3, result.stalled());
        assertEquals(3, result.cutOff());
        assertEquals(2.0, result.firstCutSeconds());
        assertEquals(4.0, result.lastCutSeconds());
        assertSame(before, result.beforeMicros());
        assertSame(whileStalled, result.whileStalledMicros());
        assertSame(afterCut, result.afterCutMicros());
    }

    @Test
    void anUnknownBaselineWatchesNoCutOff() {
        SlowStall stall = new SlowStall(T0, -1);
        stall.stalled(3, T0);
        assertFalse(stall.awaitingCuts());
        Summary.Stall result = stall.result(T0);
        assertEquals(0, result.cutOff());
        assertEquals(-1.0, result.firstCutSeconds());
    }
}
