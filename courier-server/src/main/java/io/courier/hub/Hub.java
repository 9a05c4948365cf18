package io.courier.hub;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Who receives what: per audience, one group of every connection (for broadcasts) and one group
 * per subscribed topic, each split by event loop. Publishing never takes a lock and never touches
 * the database: it reads two lock-free maps, encodes the frame once, and hands each event loop
 * that has members one item of work ({@link Fanout}).
 *
 * <p>Threads: {@link #publish} and {@link #broadcast} from any thread; {@link #throttle} on the
 * publisher's event loop. {@link #connect},
 * {@link #subscribe}, {@link #unsubscribe} and {@link #disconnect} on the subscriber's own event
 * loop, which is what lets each {@link LoopSlot} go without a lock. Empty groups and audiences are
 * removed, so the structures shrink back when connections leave.
 */
public final class Hub {
    /** The groups of one audience. {@link Group#refs} of {@code everyone} counts its connections. */
    private static final class Room {
        final Group everyone;
        final ConcurrentHashMap<String, Group> topics = new ConcurrentHashMap<>();

        Room(int loops) {
            everyone = new Group(loops, Frames.BROADCAST_PREFIX);
        }
    }

    private final KnownTopics topics;
    private final ByteBufAllocator alloc;
    private final Fanout[] fanouts;
    private final OutboundBudget budget;
    private final Map<EventExecutor, Integer> loopIndex = new IdentityHashMap<>();
    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger subscriptions = new AtomicInteger();

    /** A hub whose fan-out queues and outbound bytes are never limited (see the last constructor). */
    public Hub(EventLoopGroup loops, KnownTopics topics, ByteBufAllocator alloc, FanoutListener listener) {
        this(loops, topics, alloc, listener, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /** A hub without a server-wide outbound budget (see the last constructor). */
    public Hub(
            EventLoopGroup loops,
            KnownTopics topics,
            ByteBufAllocator alloc,
            FanoutListener listener,
            long maxQueuedBytes) {
        this(loops, topics, alloc, listener, maxQueuedBytes, Long.MAX_VALUE);
    }

    /**
     * @param loops the event loops that own WebSocket channels
     * @param maxQueuedBytes frame bytes one loop's fan-out may hold queued before {@link #throttle}
     *     stops publishing sockets reading
     * @param maxOutboundBytes unsent bytes all connections may hold together before the fan-out
     *     waits and then cuts off the slowest ({@link OutboundBudget}); {@link Long#MAX_VALUE} for none
     */
    public Hub(
            EventLoopGroup loops,
            KnownTopics topics,
            ByteBufAllocator alloc,
            FanoutListener listener,
            long maxQueuedBytes,
            long maxOutboundBytes) {
        this.topics = topics;
        this.alloc = alloc;
        this.budget = new OutboundBudget(maxOutboundBytes);
        List<Fanout> list = new ArrayList<>();
        for (EventExecutor e : loops) {
            loopIndex.put(e, list.size());
            list.add(new Fanout((EventLoop) e, listener, maxQueuedBytes, budget));
        }
        this.fanouts = list.toArray(new Fanout[0]);
        Backlog[] backlogs = new Backlog[fanouts.length];
        for (int i = 0; i < fanouts.length; i++) {
            backlogs[i] = fanouts[i].backlog;
        }
        budget.loops(backlogs);
        if (budget.enabled()) {
            // Each loop reads its own connections on its own thread; the task ends with the loop.
            for (Fanout f : fanouts) {
                f.loop()
                        .scheduleAtFixedRate(
                                f.backlog::tick,
                                OutboundBudget.SAMPLE_MILLIS,
                                OutboundBudget.SAMPLE_MILLIS,
                                TimeUnit.MILLISECONDS);
            }
        }
    }

    public KnownTopics topics() {
        return topics;
    }

    public int connections() {
        return connections.get();
    }

    public int subscriptions() {
        return subscriptions.get();
    }

    /** Frame bytes waiting in the event loops' fan-out queues, summed. Any thread; lock-free. */
    public long queuedBytes() {
        long sum = 0;
        for (Fanout f : fanouts) {
            sum += f.queuedBytes();
        }
        return sum;
    }

    /**
     * Unsent bytes in the connections' outbound buffers as the server-wide budget last read them,
     * summed over the loops (0 without a budget: nothing is measured then). Any thread; lock-free.
     */
    public long outboundQueuedBytes() {
        return budget.queuedBytes();
    }

    /** Number of audiences with at least one open connection. */
    public int activeAudiences() {
        return rooms.size();
    }

    /**
     * Joins a new connection to its audience's broadcast group. Call once the pipeline is final:
     * deliveries are written from its first handler's context. Channel's event loop only.
     */
    public Subscriber connect(Channel channel, String audience) {
        Integer loop = loopIndex.get(channel.eventLoop());
        if (loop == null) {
            throw new IllegalArgumentException("channel " + channel + " is not on one of the hub's event loops");
        }
        Subscriber s = new Subscriber(channel, audience, fanouts[loop], loop);
        Room room = rooms.compute(audience, (a, r) -> {
            Room joined = r == null ? new Room(fanouts.length) : r;
            joined.everyone.refs++;
            return joined;
        });
        s.everyone = new Membership(s, room.everyone);
        room.everyone.slots[loop].add(s.everyone);
        connections.incrementAndGet();
        return s;
    }

    /** Removes the connection from every group at once. Idempotent. Channel's event loop only. */
    public void disconnect(Subscriber s) {
        if (s.everyone == null) {
            return;
        }
        int loop = s.loop;
        Room room = rooms.get(s.audience);
        for (Map.Entry<String, Membership> e : s.topics.entrySet()) {
            leaveTopic(room, e.getKey(), e.getValue(), loop);
        }
        subscriptions.addAndGet(-s.topics.size());
        s.topics.clear();
        room.everyone.slots[loop].remove(s.everyone);
        s.everyone = null;
        s.fanout.caughtUp(s);
        rooms.computeIfPresent(s.audience, (a, r) -> --r.everyone.refs == 0 ? null : r);
        connections.decrementAndGet();
    }

    /** Returns false when already subscribed (a no-op). Channel's event loop only. */
    public boolean subscribe(Subscriber s, String topic) {
        return subscribe(s, topic, -1);
    }

    /**
     * A history topic's subscription: frames fanned out with an offset up to {@code deliveredThrough}
     * are skipped for this subscriber (it has them, or they precede its position). Returns false
     * when already subscribed (a no-op). Channel's event loop only.
     */
    public boolean subscribe(Subscriber s, String topic, long deliveredThrough) {
        if (s.everyone == null || s.topics.containsKey(topic)) {
            return false;
        }
        Room room = rooms.get(s.audience);
        Group group = room.topics.compute(topic, (t, g) -> {
            Group joined = g == null ? new Group(fanouts.length, Frames.publishPrefix(t)) : g;
            joined.refs++;
            return joined;
        });
        Membership m = new Membership(s, group);
        m.deliveredThrough = deliveredThrough;
        group.slots[s.loop].add(m);
        s.topics.put(topic, m);
        subscriptions.incrementAndGet();
        return true;
    }

    /**
     * A history subscription goes live: frames with an offset up to {@code deliveredThrough} are
     * skipped for it, later ones delivered. A no-op when not subscribed. Channel's event loop only.
     */
    public void deliverFrom(Subscriber s, String topic, long deliveredThrough) {
        Membership m = s.topics.get(topic);
        if (m != null) {
            m.deliveredThrough = deliveredThrough;
        }
    }

    /**
     * A history topic lost a message on its way to this node: every local subscriber of the topic
     * gets {@code event} through its channel's pipeline, on its own event loop, so the session can
     * tell its client. Any thread.
     *
     * @return the number of event loops that had subscribers
     */
    public int stateLost(String audience, String topic, Object event) {
        Room room = rooms.get(audience);
        Group group = room == null ? null : room.topics.get(topic);
        if (group == null) {
            return 0;
        }
        int loops = 0;
        for (int i = 0; i < fanouts.length; i++) {
            LoopSlot slot = group.slots[i];
            if (slot.count != 0) {
                fanouts[i]
                        .loop()
                        .execute(() -> slot.forEach(s -> s.channel.pipeline().fireUserEventTriggered(event)));
                loops++;
            }
        }
        return loops;
    }

    /** Returns false when not subscribed (a no-op). Channel's event loop only. */
    public boolean unsubscribe(Subscriber s, String topic) {
        Membership m = s.topics.remove(topic);
        if (m == null) {
            return false;
        }
        leaveTopic(rooms.get(s.audience), topic, m, s.loop);
        subscriptions.decrementAndGet();
        return true;
    }

    private void leaveTopic(Room room, String topic, Membership m, int loop) {
        m.group.slots[loop].remove(m);
        room.topics.computeIfPresent(topic, (t, g) -> --g.refs == 0 ? null : g);
    }

    /**
     * Sends {@code message} (the bytes of one JSON object, read but not consumed) to every
     * subscriber of {@code topic} in {@code audience}. Any thread; lock-free.
     *
     * @return the number of event loops handed work (0 when nobody is subscribed)
     * @throws CourierException ETOPIC_NOTFOUND when the audience has no such topic
     */
    public int publish(String audience, String topic, ByteBuf message) {
        if (!topics.contains(audience, topic)) {
            throw new CourierException(ErrorCode.ETOPIC_NOTFOUND, "no topic '" + topic + "' in audience " + audience);
        }
        Room room = rooms.get(audience);
        Group group = room == null ? null : room.topics.get(topic);
        return group == null ? 0 : fanOut(group, message);
    }

    /**
     * Fans out a history topic's frame (built with {@link Frames#frameWithOffset}, read but not
     * consumed) to the topic's subscribers, each of which gets it only if its position is before
     * {@code offset}. The caller checked the topic and serializes the topic's publishes, so frames
     * reach each loop in offset order. Any thread; lock-free.
     */
    public int publishFrame(String audience, String topic, ByteBuf frame, long offset) {
        Room room = rooms.get(audience);
        Group group = room == null ? null : room.topics.get(topic);
        return group == null ? 0 : submit(group, frame, System.nanoTime(), offset);
    }

    /** Sends {@code message} to every open connection of {@code audience}. Any thread; lock-free. */
    public int broadcast(String audience, ByteBuf message) {
        Room room = rooms.get(audience);
        return room == null ? 0 : fanOut(room.everyone, message);
    }

    /**
     * Call after {@code publisher} published: while some loop's fan-out is far behind (its queue over
     * the limit, because subscribers there are slower than the publishers) the publishing socket
     * stops being read, and reads again once that queue is half drained. Slowing the publisher
     * keeps memory bounded without cutting off subscribers that keep reading. Publisher's event loop.
     */
    public void throttle(Channel publisher) {
        for (Fanout f : fanouts) {
            if (f.overloaded()) {
                f.hold(publisher);
                return;
            }
        }
    }

    /** Encodes the frame once, and only when some loop has subscribers of {@code group}. */
    private int fanOut(Group group, ByteBuf message) {
        long start = System.nanoTime();
        if (!group.hasSubscribers()) {
            return 0;
        }
        ByteBuf frame = Frames.frame(alloc, group.framePrefix, message);
        try {
            return submit(group, frame, start, -1);
        } finally {
            frame.release();
        }
    }

    /** Hands {@code frame} (retained once per loop, not consumed) to every loop with subscribers. */
    private int submit(Group group, ByteBuf frame, long start, long offset) {
        int loops = 0;
        for (int i = 0; i < fanouts.length; i++) {
            LoopSlot slot = group.slots[i];
            if (slot.count != 0) {
                fanouts[i].submit(frame.retain(), slot, start, offset);
                loops++;
            }
        }
        return loops;
    }
}
