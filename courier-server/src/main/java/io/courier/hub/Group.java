package io.courier.hub;

/**
 * Everyone who receives one stream of messages: the subscribers of one topic, or every connection
 * of an audience (for broadcasts). Split into one {@link LoopSlot} per event loop, so a fan-out
 * gives each loop a single batch of work for all of its members.
 *
 * <p>{@link #refs} counts members across all loops; it is changed only inside
 * {@code ConcurrentHashMap.compute} on the map that holds the group, which is what lets an empty
 * group be removed without racing a concurrent join from another loop.
 */
final class Group {
    final LoopSlot[] slots;
    /** The outbound frame up to and including {@code "message":}, encoded once per group. */
    final byte[] framePrefix;

    int refs;

    Group(int loops, byte[] framePrefix) {
        this.slots = new LoopSlot[loops];
        for (int i = 0; i < loops; i++) {
            slots[i] = new LoopSlot();
        }
        this.framePrefix = framePrefix;
    }

    /** Whether any loop holds a subscriber now (counts are read without a lock, as the fan-out does). */
    boolean hasSubscribers() {
        for (LoopSlot slot : slots) {
            if (slot.count != 0) {
                return true;
            }
        }
        return false;
    }
}
