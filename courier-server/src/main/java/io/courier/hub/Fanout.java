package io.courier.hub;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fan-out work queue of one event loop. Publishers on any thread enqueue one item per publish
 * (a frame and the {@link LoopSlot} to write it to); the loop drains everything queued, writes each
 * frame to every member of its slot, and only then flushes each touched connection once.
 *
 * <p>Why: a task per delivery (what {@code ChannelGroup.writeAndFlush} does) costs a cross-thread
 * hand-off and a system call per subscriber. Draining in batches lets a busy connection collect
 * many frames per {@code writev}, while an idle server still flushes each message at once because
 * the drain runs as soon as the first item arrives.
 */
final class Fanout implements Runnable {
    private record Work(ByteBuf frame, LoopSlot slot, long startNanos) {
    }

    /** Publishes drained per turn before the loop goes back to its sockets. */
    private static final int MAX_BATCH = 1024;

    private final EventLoop loop;
    private final Queue<Work> queue = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Subscribers written to since the last flush. Event loop only. */
    private final ArrayList<Subscriber> toFlush = new ArrayList<>();
    /** When each publish of the current batch entered the hub. Event loop only; reused. */
    private final long[] batchStarts = new long[MAX_BATCH];
    private final FanoutListener listener;

    Fanout(EventLoop loop, FanoutListener listener) {
        this.loop = loop;
        this.listener = listener;
    }

    EventLoop loop() {
        return loop;
    }

    /** Any thread. Takes one reference of {@code frame}, released once written. */
    void submit(ByteBuf frame, LoopSlot slot, long startNanos) {
        queue.offer(new Work(frame, slot, startNanos));
        if (scheduled.compareAndSet(false, true)) {
            loop.execute(this);
        }
    }

    // Event loop only.
    void needsFlush(Subscriber subscriber) {
        toFlush.add(subscriber);
    }

    @Override
    public void run() {
        drain();
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
        int drained = 0;
        Work work;
        while (drained < MAX_BATCH && (work = queue.poll()) != null) {
            batchStarts[drained++] = work.startNanos();
            try {
                deliveries += work.slot().deliver(work.frame());
            } finally {
                work.frame().release();
            }
        }
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

    /** Drops queued work at shutdown, releasing its frames. */
    void discard() {
        Work work;
        while ((work = queue.poll()) != null) {
            work.frame().release();
        }
    }
}
