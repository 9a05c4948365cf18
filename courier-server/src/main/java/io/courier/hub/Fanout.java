package io.courier.hub;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fan-out work queue of one event loop. Publishers on any thread enqueue one item per publish
 * (a frame and the {@link LoopSlot} to write it to); the loop drains everything queued, writes each
 * frame to every member of its slot, and only then flushes each touched connection once. Publishes
 * queued back to back for the same slot are joined into one run (one buffer, up to 64 KiB) first,
 * so at depth a subscriber costs one write per run, not one per publish.
 *
 * <p>Why: a task per delivery (what {@code ChannelGroup.writeAndFlush} does) costs a cross-thread
 * hand-off and a system call per subscriber. Draining in batches lets a busy connection collect
 * many frames per {@code writev}, while an idle server still flushes each message at once because
 * the drain runs as soon as the first item arrives.
 *
 * <p>Bursts: a subscriber is flushed inside the drain every few dozen KiB ({@link Subscriber}), and
 * when one goes past the slow-consumer bound (its channel turns unwritable) the drain stops after
 * the publish in hand and waits, queue and all, until every such subscriber has written down to half
 * the bound or been cut off. So a burst never piles more than the bound plus one publish onto a
 * subscriber that keeps reading, however large the burst; the session cuts off one that stays
 * unwritable for a grace period. While the loop waits its queue grows; past {@code maxQueuedBytes}
 * publishing sockets are told to stop reading ({@link #hold}) until it is half drained.
 *
 * <p>The server-wide budget ({@link OutboundBudget}) stops the drain the same way: while the
 * connections of all loops hold more unsent bytes than it allows, this loop's {@link Backlog} holds
 * the drain after the publish in hand, and resumes it once the total is back under its low-water mark.
 *
 * <p>Shutdown needs nothing of its own: a graceful event-loop shutdown runs the tasks still queued,
 * and a drain releases every frame it takes whether or not its channels are still open.
 */
final class Fanout implements Runnable {
    /** One publish for this loop. */
    private sealed interface Item permits Work, HistoryWork {
        ByteBuf frame();

        LoopSlot slot();

        long startNanos();
    }

    private record Work(ByteBuf frame, LoopSlot slot, long startNanos) implements Item {}

    /**
     * A history topic's publish: its offset rides along so each subscriber gets it at most once.
     * A type of its own, so the item of a topic without history stays as small as it was.
     */
    private record HistoryWork(ByteBuf frame, LoopSlot slot, long startNanos, long offset) implements Item {}

    /** Publishes drained per turn before the loop goes back to its sockets. */
    private static final int MAX_BATCH = 1024;

    private final EventLoop loop;
    private final Queue<Item> queue = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Subscribers written to since the last flush. Event loop only. */
    private final ArrayList<Subscriber> toFlush = new ArrayList<>();
    /** When each publish of the current batch entered the hub. Event loop only; reused. */
    private final long[] batchStarts = new long[MAX_BATCH];

    private final FanoutListener listener;
    /** Frame bytes submitted and not yet drained. Any thread. */
    private final AtomicLong queuedBytes = new AtomicLong();

    private final long maxQueuedBytes;
    /**
     * The most frame bytes one run may hold: 64 KiB (what loopback takes in one segment), less when
     * the slow-consumer bound is small, since a run is what a subscriber past its bound may still get.
     */
    private final int maxRunBytes;
    /** Publishing channels that stopped reading until this queue drains to half its limit. Any thread. */
    private final Queue<Channel> held = new ConcurrentLinkedQueue<>();
    /** Subscribers past the slow-consumer bound that the drain waits for. Event loop only. */
    private final ArrayList<Subscriber> behind = new ArrayList<>();
    /**
     * True while the drain waits for {@link #behind} to empty or for the budget; {@link #scheduled}
     * stays set meanwhile. Event loop only.
     */
    private boolean paused;
    /** This loop's part of the server-wide outbound budget. */
    final Backlog backlog;

    Fanout(EventLoop loop, FanoutListener listener, long maxQueuedBytes, OutboundBudget budget) {
        this.loop = loop;
        this.listener = listener;
        this.maxQueuedBytes = maxQueuedBytes;
        this.maxRunBytes = (int) Math.max(1, Math.min(64 * 1024, maxQueuedBytes / 64));
        this.backlog = new Backlog(budget, this);
    }

    /**
     * A buffer for a run that starts with {@code first}; takes over (releases) {@code first}. Sized
     * for a few frames and grown as the run grows: subscribers hold a run until each has sent it, so
     * a short run must not pin a large buffer.
     */
    private ByteBuf startRun(ByteBuf first) {
        ByteBuf run = first.alloc().directBuffer(Math.min(maxRunBytes, 8 * first.readableBytes()), maxRunBytes);
        run.writeBytes(first, first.readerIndex(), first.readableBytes());
        first.release();
        return run;
    }

    EventLoop loop() {
        return loop;
    }

    /** Any thread. Takes one reference of {@code frame}, released once written. */
    void submit(ByteBuf frame, LoopSlot slot, long startNanos, long offset) {
        queuedBytes.addAndGet(frame.readableBytes());
        queue.offer(offset < 0 ? new Work(frame, slot, startNanos) : new HistoryWork(frame, slot, startNanos, offset));
        if (scheduled.compareAndSet(false, true)) {
            loop.execute(this);
        }
    }

    // Event loop only.
    void needsFlush(Subscriber subscriber) {
        toFlush.add(subscriber);
    }

    /** Subscribers written to since the drain's last flush (a live view). Event loop only. */
    ArrayList<Subscriber> unflushed() {
        return toFlush;
    }

    /** Frame bytes waiting in this loop's queue. Any thread. */
    long queuedBytes() {
        return queuedBytes.get();
    }

    /** True when more than {@code maxQueuedBytes} wait in this loop's queue. Any thread. */
    boolean overloaded() {
        return queuedBytes.get() > maxQueuedBytes;
    }

    /**
     * Stops reading {@code publisher} until this queue is down to half its limit. The channel's
     * event loop (any thread would do: auto-read is thread-safe in Netty).
     */
    void hold(Channel publisher) {
        publisher.config().setAutoRead(false);
        held.offer(publisher);
        // The drain may have emptied the queue between the caller's check and the offer above.
        releaseHeldIfDrained();
    }

    private void releaseHeldIfDrained() {
        if (held.isEmpty() || queuedBytes.get() > maxQueuedBytes / 2) {
            return;
        }
        Channel c;
        while ((c = held.poll()) != null) {
            c.config().setAutoRead(true);
        }
    }

    // Event loop only.
    void fellBehind(Subscriber s) {
        if (!s.behind) {
            s.behind = true;
            behind.add(s);
        }
    }

    /** {@code s} is writable again, cut off or gone: stop waiting for it. Event loop only. */
    void caughtUp(Subscriber s) {
        if (s.behind) {
            s.behind = false;
            behind.remove(s);
        }
        resume();
    }

    /** Schedules the drain again if it waits and nothing holds it any more. Event loop only. */
    void resume() {
        if (paused && !waiting()) {
            paused = false;
            loop.execute(this);
        }
    }

    /** True while a subscriber past its bound, or the server-wide budget, holds the drain. Event loop only. */
    private boolean waiting() {
        return !behind.isEmpty() || backlog.holding();
    }

    @Override
    public void run() {
        if (waiting()) {
            // Wait for a subscriber past its bound or for the budget; resume() schedules the next turn.
            paused = true;
            return;
        }
        drain();
        releaseHeldIfDrained();
        if (waiting()) {
            paused = true;
            return;
        }
        if (!queue.isEmpty()) {
            // Still busy: stay scheduled but let the loop serve its sockets before the next batch.
            loop.execute(this);
            return;
        }
        scheduled.set(false);
        // A publisher may have enqueued after the last poll but before the flag was cleared,
        // seen scheduled == true and not scheduled us: look once more before leaving.
        if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
            loop.execute(this);
        }
    }

    private void drain() {
        long deliveries = 0;
        long bytes = 0;
        int drained = 0;
        Item work;
        // A subscriber that went past its bound, or the budget, stops the batch after the run in hand.
        while (drained < MAX_BATCH && !waiting() && (work = queue.poll()) != null) {
            batchStarts[drained++] = work.startNanos();
            bytes += work.frame().readableBytes();
            if (work instanceof HistoryWork h) {
                try {
                    int written = h.slot().deliver(h.frame(), h.offset());
                    deliveries += written;
                    backlog.wrote((long) h.frame().readableBytes() * written);
                } finally {
                    h.frame().release();
                }
                continue;
            }
            // Publishes queued back to back for the same subscribers go out as one run: each
            // subscriber then costs one write per run instead of one per publish.
            ByteBuf run = work.frame();
            int frames = 1;
            try {
                for (Item next;
                        drained < MAX_BATCH
                                && (next = queue.peek()) instanceof Work w
                                && w.slot() == work.slot()
                                && run.readableBytes() + w.frame().readableBytes() <= maxRunBytes; ) {
                    queue.poll();
                    if (frames == 1) {
                        run = startRun(run);
                    }
                    ByteBuf frame = w.frame();
                    bytes += frame.readableBytes();
                    run.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
                    frame.release();
                    batchStarts[drained++] = w.startNanos();
                    frames++;
                }
                int written = work.slot().deliver(run);
                deliveries += (long) written * frames;
                backlog.wrote((long) run.readableBytes() * written);
            } finally {
                run.release();
            }
        }
        queuedBytes.addAndGet(-bytes);
        for (int i = 0, n = toFlush.size(); i < n; i++) {
            Subscriber s = toFlush.get(i);
            s.flushPending = false;
            s.flush();
        }
        toFlush.clear();
        if (deliveries > 0) {
            listener.delivered(deliveries);
        }
        long now = System.nanoTime();
        for (int i = 0; i < drained; i++) {
            listener.fannedOut(now - batchStarts[i]);
        }
    }
}
