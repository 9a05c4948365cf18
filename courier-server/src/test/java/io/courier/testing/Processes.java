package io.courier.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Stopping the external programs the kit starts (Prometheus, HAProxy), only by their own PID. */
public final class Processes {
    private Processes() {}

    /**
     * SIGTERM, then SIGKILL if {@code process} is still there after {@code grace}; returns once it is
     * gone (or after a second grace). Does nothing for a process that already ended.
     */
    public static void stop(Process process, Duration grace) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
