package io.courier.hub;

/** One subscriber's place in one {@link LoopSlot}; it knows its index so removal is O(1). */
final class Membership {
    final Subscriber subscriber;
    final Group group;
    int index = -1;
    /**
     * History topics: frames with an offset up to this one are not delivered (the subscriber got
     * them replayed, or they precede the position its ack reported). Event loop only.
     */
    long deliveredThrough = -1;

    Membership(Subscriber subscriber, Group group) {
        this.subscriber = subscriber;
        this.group = group;
    }
}
