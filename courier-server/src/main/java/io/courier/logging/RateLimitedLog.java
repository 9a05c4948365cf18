package io.courier.logging;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * A warning that may repeat often (one per bad client frame) but reaches the log at most once per
 * interval, saying how many were held back. Any thread; lock-free.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, long interval, TimeUnit unit) {
        this.log = log;
        this.intervalNanos = unit.toNanos(interval);
    }

    /**
     * A WARN event builder when a warning may go out now (it carries a {@code suppressed} count of
     * those held back since the last one), or null when it must be dropped. Callers add their key
     * fields and log it: {@code var w = limit.warning(); if (w != null) w.addKeyValue(...).log(...)}.
     */
    public LoggingEventBuilder warning() {
        if (!log.isWarnEnabled()) {
            return null;
        }
        long now = System.nanoTime();
        long next = nextNanos.get();
        if (now - next < 0 || !nextNanos.compareAndSet(next, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return null;
        }
        return log.atWarn().addKeyValue("suppressed", suppressed.getAndSet(0));
    }
}
