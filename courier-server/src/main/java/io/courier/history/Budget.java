package io.courier.history;

import java.util.concurrent.atomic.AtomicLong;

/** The bytes every ring holds together, against {@code courier.history.max.memory.bytes}. Any thread; lock-free. */
final class Budget {
    private final AtomicLong held = new AtomicLong();
    private final long maxBytes;

    Budget(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    void add(long bytes) {
        held.addAndGet(bytes);
    }

    void remove(long bytes) {
        held.addAndGet(-bytes);
    }

    boolean over() {
        return held.get() > maxBytes;
    }

    /** Past this the sweep evicts the oldest messages across topics, so appends rarely have to. */
    boolean overSweepMark() {
        return held.get() > maxBytes - maxBytes / 10;
    }

    long heldBytes() {
        return held.get();
    }
}
