package io.courier.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition until it holds or a deadline passes; never a bare sleep as synchronisation. */
public final class Await {
    private Await() {}

    public static void until(BooleanSupplier condition, String what) {
        until(condition, Duration.ofSeconds(10), what);
    }

    public static void until(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /**
     * Fails as soon as {@code condition} stops holding during {@code duration}: for showing that
     * nothing more arrives (a duplicate, a late frame) over a stated window.
     */
    public static void holds(BooleanSupplier condition, Duration duration, String what) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < deadline) {
            if (!condition.getAsBoolean()) {
                throw new AssertionError("stopped holding within " + duration + ": " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        if (!condition.getAsBoolean()) {
            throw new AssertionError("stopped holding within " + duration + ": " + what);
        }
    }
}
