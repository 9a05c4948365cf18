package io.courier.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link OutboundBudget}: which connections go when the server is over its outbound budget. */
class OutboundBudgetTest {
    @Test
    void largestGoFirstUntilEnoughIsFreed() {
        long[] unsent = {100, 5_000, 0, 3_000, 2_000};

        assertArrayEquals(new int[] {1}, OutboundBudget.slowestFirst(unsent, 5, 4_000));
        assertArrayEquals(new int[] {1, 3}, OutboundBudget.slowestFirst(unsent, 5, 5_001));
        assertArrayEquals(new int[] {1, 3, 4}, OutboundBudget.slowestFirst(unsent, 5, 9_000));
    }

    @Test
    void connectionsWithNothingUnsentAreNeverChosen() {
        long[] unsent = {0, 700, 0, 300};

        assertArrayEquals(
                new int[] {1, 3},
                OutboundBudget.slowestFirst(unsent, 4, 1_000_000),
                "what is not there cannot be freed by cutting a reader off");
    }

    @Test
    void nothingToFreeCutsNobody() {
        long[] unsent = {10, 20};

        assertEquals(0, OutboundBudget.slowestFirst(unsent, 2, 0).length);
        assertEquals(0, OutboundBudget.slowestFirst(unsent, 2, -5).length);
    }

    @Test
    void onlyTheFirstCountCandidatesAreRead() {
        long[] unsent = {10, 20, 999};

        assertArrayEquals(new int[] {1, 0}, OutboundBudget.slowestFirst(unsent, 2, 25));
    }

    @Test
    void lowWaterMarkIsThreeQuartersOfTheBudget() {
        assertEquals(3 * 1024 * 1024, new OutboundBudget(4 * 1024 * 1024).lowWaterBytes);
    }
}
