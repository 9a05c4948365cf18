package io.courier.hub;

/** One subscriber's place in one {@link LoopSlot}; it knows its index so removal is O(1). */
final class Membership {
    final Subscriber subscriber;
    final Group group;
    int index = -1;

    Membership(Subscriber subscriber, Group group) {
        this.subscriber = subscriber;
        this.group = group;
    }
}
