package io.courier.history;

import io.courier.config.HistorySettings;
import io.courier.hub.Frames;
import io.courier.hub.Hub;
import io.courier.hub.Subscriber;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One history topic on a single node: the offsets it hands out (1, 2, 3... within this start's
 * epoch) and its last messages, kept as the frames subscribers received, at most
 * {@link HistorySettings#size} of them, each for at most {@link HistorySettings#ttlSeconds}.
 *
 * <p>The ring's lock serializes the topic: a publish assigns its offset, appends its frame and
 * hands the frame to the fan-out in one step, so every event loop receives the topic's frames in
 * offset order; a subscribe takes its snapshot and joins the hub's group in one step, so every
 * frame after the snapshot reaches it by the fan-out, and every frame up to the snapshot (some may
 * still wait in its loop's fan-out queue) is skipped for it by offset. Nothing under the lock
 * waits: no I/O, only memory and queue hand-offs.
 *
 * <p>Invariant: the retained entries hold consecutive offsets ending at {@link #last} (or none).
 * Eviction only removes the oldest, so "are all offsets after {@code since} here" is a check of the
 * first retained offset.
 */
final class Ring {
    /** One retained message: its frame (one reference held here) and when it was published. */
    private record Entry(long offset, long atNanos, ByteBuf frame, int messageStart, int messageLength) {}

    private static final int OFFSET_FIELD_LENGTH = ",\"offset\":".length();

    private final String audience;
    private final String topic;
    private final HistorySettings settings;
    private final long ttlNanos;
    private final byte[] prefix;
    private final Budget budget;

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    /** The latest offset handed out; 0 before the first publish. Guarded by this. */
    private long last;

    Ring(String audience, String topic, HistorySettings settings, Budget budget) {
        this.audience = audience;
        this.topic = topic;
        this.settings = settings;
        this.ttlNanos = TimeUnit.SECONDS.toNanos(settings.ttlSeconds());
        this.prefix = Frames.publishPrefix(topic);
        this.budget = budget;
    }

    /**
     * Assigns the next offset to {@code message} (read, not consumed), keeps its frame and fans it
     * out. Returns the offset. Any thread.
     */
    long publish(Hub hub, ByteBufAllocator alloc, ByteBuf message, long nowNanos) {
        long offset;
        synchronized (this) {
            offset = ++last;
            ByteBuf frame = Frames.frameWithOffset(alloc, prefix, message, offset);
            try {
                int bytes = frame.readableBytes();
                // The frame ends with the message, then ,"offset":<digits>}.
                int suffix = OFFSET_FIELD_LENGTH + Long.toString(offset).length() + 1;
                int start = bytes - message.readableBytes() - suffix;
                entries.addLast(new Entry(offset, nowNanos, frame.retain(), start, message.readableBytes()));
                budget.add(bytes);
                expire(nowNanos);
                while (entries.size() > settings.size()) {
                    evictOldest();
                }
                // Over the server-wide budget: this topic gives up its own oldest first, down to
                // nothing (the sweep later takes from the oldest topics, see Histories).
                while (budget.over() && !entries.isEmpty()) {
                    evictOldest();
                }
                hub.publishFrame(audience, topic, frame, offset);
            } finally {
                frame.release();
            }
        }
        return offset;
    }

    /**
     * Subscribes {@code s} at the current position and decides its recovery: with {@code since}
     * null, no replay; else every message after {@code since.offset()} is replayed when all of
     * them are still here, none otherwise (never a part). Subscriber's event loop.
     *
     * @param epoch this start's epoch; a different one in {@code since} cannot be served
     */
    Recovery subscribe(Hub hub, Subscriber s, Position since, String epoch, int recoveryLimit, long nowNanos) {
        synchronized (this) {
            expire(nowNanos);
            Position position = new Position(last, epoch);
            List<ByteBuf> replay = List.of();
            Boolean recovered = null;
            if (since != null) {
                recovered = servable(since, epoch, recoveryLimit);
                if (recovered && since.offset() < last) {
                    replay = new ArrayList<>((int) (last - since.offset()));
                    for (Entry e : entries) {
                        if (e.offset() > since.offset()) {
                            replay.add(e.frame().retainedDuplicate());
                        }
                    }
                }
            }
            hub.subscribe(s, topic, last);
            return new Recovery(position, recovered, replay, null);
        }
    }

    // Guarded by this.
    private boolean servable(Position since, String epoch, int recoveryLimit) {
        if (!epoch.equals(since.epoch()) || since.offset() > last) {
            return false; // another start's offsets, or one this start never handed out
        }
        if (since.offset() == last) {
            return true; // missed nothing
        }
        if (last - since.offset() > recoveryLimit) {
            return false;
        }
        return !entries.isEmpty() && entries.peekFirst().offset() <= since.offset() + 1;
    }

    /** The retained messages after {@code since}, oldest first, at most {@code limit}. Any thread. */
    synchronized List<Publication> read(long since, int limit, long nowNanos) {
        expire(nowNanos);
        List<Publication> out = new ArrayList<>(Math.min(limit, entries.size()));
        for (Iterator<Entry> it = entries.iterator(); it.hasNext() && out.size() < limit; ) {
            Entry e = it.next();
            if (e.offset() > since) {
                out.add(new Publication(e.offset(), e.frame().retainedSlice(e.messageStart(), e.messageLength())));
            }
        }
        return out;
    }

    synchronized long last() {
        return last;
    }

    /** When the oldest retained message was published, or {@code Long.MAX_VALUE} when none is. */
    synchronized long oldestNanos() {
        Entry first = entries.peekFirst();
        return first == null ? Long.MAX_VALUE : first.atNanos();
    }

    /** Drops expired messages and, if {@code evictOne}, the oldest one. Returns bytes freed. Any thread. */
    synchronized long sweep(long nowNanos, boolean evictOne) {
        long freed = expire(nowNanos);
        if (evictOne && !entries.isEmpty()) {
            freed += evictOldest();
        }
        return freed;
    }

    /** Releases every retained frame (shutdown). */
    synchronized void clear() {
        while (!entries.isEmpty()) {
            evictOldest();
        }
    }

    // Guarded by this.
    private long expire(long nowNanos) {
        long freed = 0;
        Entry first;
        while ((first = entries.peekFirst()) != null && nowNanos - first.atNanos() >= ttlNanos) {
            freed += evictOldest();
        }
        return freed;
    }

    // Guarded by this.
    private long evictOldest() {
        Entry e = entries.pollFirst();
        int bytes = e.frame().readableBytes();
        e.frame().release();
        budget.remove(bytes);
        return bytes;
    }
}
