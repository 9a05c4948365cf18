package io.courier.hub;

import io.netty.channel.ChannelOutboundBuffer;
import java.util.ArrayList;

/**
 * One event loop's part of the {@link OutboundBudget}: the connections of the loop that hold unsent
 * bytes, what they hold together, and whether the loop's fan-out must wait for the budget.
 *
 * <p>A connection joins the list when a flush leaves bytes unsent (one read of its outbound buffer
 * per flush, not per delivery) and leaves it at the first reading that finds it empty or closed, so
 * a reading walks only the connections that are behind: none on a server whose clients keep up.
 * Between readings the drain adds what it writes ({@link #wrote}); past this loop's allowance (a
 * share of the room that neither its connections nor the other loops' allowances take) it reads
 * again at once. That bounds the total to the budget plus one publish per loop, however long the
 * period, give or take two loops reading at the same instant.
 *
 * <p>Event loop only, except {@link #queuedBytes} and {@link #closingBytes}, which other loops and
 * the metrics read.
 */
final class Backlog {
    private final OutboundBudget budget;
    private final Fanout fanout;
    /** Connections that held unsent bytes at their last flush or reading. */
    private final ArrayList<Subscriber> members = new ArrayList<>();

    /** Unsent bytes of {@link #members} at the last reading. Written on the loop, read anywhere. */
    volatile long queuedBytes;
    /** The part of {@link #queuedBytes} held by cut-off connections. Written on the loop, read anywhere. */
    volatile long closingBytes;
    /**
     * {@link #queuedBytes} plus what the drain may write before its next reading: the most this loop
     * can hold until then. Written on the loop, read by the other loops.
     */
    volatile long reservedBytes;

    /** Bytes the drain wrote since the last reading. */
    private long writtenSinceReading;
    /** What the drain may write before reading again: this loop's share of the room left. */
    private long allowance = Long.MAX_VALUE;
    /** Set over the budget, cleared under its low-water mark; the fan-out does not drain meanwhile. */
    private boolean over;

    private long overSinceNanos;

    Backlog(OutboundBudget budget, Fanout fanout) {
        this.budget = budget;
        this.fanout = fanout;
    }

    /** True while the fan-out must wait for the budget. */
    boolean holding() {
        return over;
    }

    /** {@code s} was just flushed: list it if it could not send everything. Not per delivery: per flush. */
    void flushed(Subscriber s) {
        if (!s.backlogged && budget.enabled() && unsent(s) > 0) {
            s.backlogged = true;
            members.add(s);
        }
    }

    /** The drain handed {@code bytes} to connections (one publish, all its deliveries on this loop). */
    void wrote(long bytes) {
        writtenSinceReading += bytes;
        if (writtenSinceReading > allowance) {
            read();
        }
    }

    /** The periodic reading ({@link OutboundBudget#SAMPLE_MILLIS}); cuts off the slowest when due. */
    void tick() {
        read();
        if (over && System.nanoTime() - overSinceNanos >= OutboundBudget.GRACE_NANOS) {
            cutOffSlowest();
        }
    }

    /** Reads every listed connection, publishes the sums and moves the over/under state. */
    private void read() {
        // Connections the drain wrote to and has not flushed yet hold bytes too; list them, or a
        // reading in the middle of a drain would forget what it wrote them.
        ArrayList<Subscriber> unflushed = fanout.unflushed();
        for (int i = 0, n = unflushed.size(); i < n; i++) {
            Subscriber s = unflushed.get(i);
            if (!s.backlogged && unsent(s) > 0) {
                s.backlogged = true;
                members.add(s);
            }
        }
        long queued = 0;
        long closing = 0;
        int kept = 0;
        for (int i = 0, n = members.size(); i < n; i++) {
            Subscriber s = members.get(i);
            long unsent = unsent(s);
            if (unsent == 0) {
                s.backlogged = false;
                continue;
            }
            members.set(kept++, s);
            queued += unsent;
            if (s.cutOff) {
                closing += unsent;
            }
        }
        members.subList(kept, members.size()).clear();
        queuedBytes = queued;
        closingBytes = closing;
        writtenSinceReading = 0;
        // Claim a share of the room the other loops have not claimed: each may have written up to
        // its own allowance since its reading, so counting only their readings would let the loops
        // together write past the budget (measured: 1.3 times it with two loops before this).
        // The floor keeps a drain near the budget from reading its whole list after every publish;
        // it lets the total pass the budget by at most 1/256 of it per loop.
        long room = budget.maxBytes - queued - budget.reservedBytesExcept(this);
        allowance = Math.max(budget.maxBytes / 256, room / budget.loopCount());
        reservedBytes = queued + allowance;
        long total = budget.queuedBytes();
        if (total > budget.maxBytes) {
            if (!over) {
                over = true;
                overSinceNanos = System.nanoTime();
            }
        } else if (over && total <= budget.lowWaterBytes) {
            over = false;
            fanout.resume();
        }
    }

    /**
     * Cuts off this loop's share of what must go: the bytes live connections hold over the low-water
     * mark, split between the loops by what each holds, largest connections first. A loop's share is
     * exact within the loop; across loops this approximates "the slowest of the server first" without
     * any loop reading another's connections. Connections that keep reading have drained while the
     * fan-out waited, so they hold little or nothing and are not chosen.
     */
    private void cutOffSlowest() {
        long total = budget.queuedBytes();
        long live = total - budget.closingBytes();
        long toFree = live - budget.lowWaterBytes;
        long ownLive = queuedBytes - closingBytes;
        if (toFree <= 0 || ownLive <= 0 || live <= 0) {
            return;
        }
        long share = (long) Math.ceil((double) toFree * ownLive / live);
        long[] unsent = new long[members.size()];
        Subscriber[] candidates = new Subscriber[members.size()];
        int n = 0;
        for (Subscriber s : members) {
            if (!s.cutOff && s.channel.isActive()) {
                candidates[n] = s;
                unsent[n++] = unsent(s);
            }
        }
        for (int i : OutboundBudget.slowestFirst(unsent, n, share)) {
            Subscriber s = candidates[i];
            s.cutOff();
            s.channel.pipeline().fireUserEventTriggered(new OutboundBudgetExceeded(unsent[i]));
        }
        read();
    }

    private static long unsent(Subscriber s) {
        ChannelOutboundBuffer out = s.channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }
}
