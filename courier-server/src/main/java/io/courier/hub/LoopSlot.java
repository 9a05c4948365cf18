package io.courier.hub;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The members of one {@link Group} that live on one event loop: a dense array walked by the fan-out.
 * Mutated and walked only on that loop, so it needs no lock; {@link #count} is published for
 * publishers on other threads to skip loops with nobody to deliver to.
 */
final class LoopSlot {
    private static final Membership[] EMPTY = new Membership[0];

    private Membership[] members = EMPTY;
    private int size;
    /** Written on the owning loop, read by publishers on any thread. */
    volatile int count;

    // Event loop only.
    void add(Membership m) {
        if (size == members.length) {
            members = Arrays.copyOf(members, Math.max(8, size * 2));
        }
        m.index = size;
        members[size++] = m;
        count = size;
    }

    // Event loop only. Swap-remove: order among subscribers of a topic carries no meaning.
    void remove(Membership m) {
        int i = m.index;
        if (i < 0 || i >= size || members[i] != m) {
            return;
        }
        Membership last = members[--size];
        members[i] = last;
        last.index = i;
        members[size] = null;
        m.index = -1;
        count = size;
        if (members.length > 64 && size < members.length / 4) {
            members = Arrays.copyOf(members, members.length / 2);
        }
    }

    /**
     * A history topic's frame: written to every member whose position is before {@code offset}, so
     * a subscriber that had it replayed does not get it twice. Event loop only.
     */
    int deliver(ByteBuf frame, long offset) {
        Membership[] snapshot = members;
        int written = 0;
        for (int i = 0, n = size; i < n; i++) {
            Membership m = snapshot[i];
            if (offset > m.deliveredThrough && m.subscriber.deliver(frame)) {
                m.deliveredThrough = offset;
                written++;
            }
        }
        return written;
    }

    /** Each member's subscriber, in turn. Event loop only. */
    void forEach(java.util.function.Consumer<Subscriber> action) {
        Membership[] snapshot = members;
        for (int i = 0, n = size; i < n; i++) {
            action.accept(snapshot[i].subscriber);
        }
    }

    /** Writes {@code frame} to every member; returns how many took it. Event loop only. */
    int deliver(ByteBuf frame) {
        Membership[] snapshot = members;
        int written = 0;
        for (int i = 0, n = size; i < n; i++) {
            if (snapshot[i].subscriber.deliver(frame)) {
                written++;
            }
        }
        return written;
    }
}
