package io.courier.history;

import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.hub.Hub;
import io.courier.hub.Subscriber;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Every history topic's {@link Ring} on a single node, created on first use from the settings the
 * catalogue holds ({@link io.courier.hub.KnownTopics#history}), and what they share: this start's
 * epoch and the memory budget.
 *
 * <p>Epoch: random at each start. A ring lives in memory only, so after a restart every offset a
 * client holds belongs to a stream that no longer exists; a new epoch makes recovery answer
 * {@code recovered:false} honestly rather than replaying a different stream under the old numbers.
 *
 * <p>Budget: each append over {@code courier.history.max.memory.bytes} evicts its own topic's
 * oldest messages (at worst keeping none), so the bound holds at once; the {@link #sweep} (every
 * second, background thread) drops expired messages everywhere and, above 90% of the budget, the
 * oldest messages across all topics, so a busy topic does not keep starving the others.
 *
 * <p>Threads: {@link #publish} and {@link #read} from any thread; {@link #subscribe} on the
 * subscriber's event loop; {@link #sweep} on the background thread. Never blocks.
 */
public final class Histories implements HistoryEngine, AutoCloseable {
    private final Hub hub;
    private final ByteBufAllocator alloc;
    private final Config.HistoryConfig config;
    private final LongSupplier nanoClock;
    private final String epoch;
    private final Budget budget;
    /** audience → topic → ring; nested so a lookup allocates no key. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Ring>> rings = new ConcurrentHashMap<>();

    public Histories(Hub hub, ByteBufAllocator alloc, Config.HistoryConfig config, LongSupplier nanoClock) {
        this.hub = hub;
        this.alloc = alloc;
        this.config = config;
        this.nanoClock = nanoClock;
        this.budget = new Budget(config.maxMemoryBytes());
        byte[] random = new byte[9];
        new SecureRandom().nextBytes(random);
        this.epoch = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /** This start's epoch. */
    public String epoch() {
        return epoch;
    }

    @Override
    public boolean keeps(String audience, String topic) {
        return hub.topics().history(audience, topic).enabled();
    }

    /**
     * Its offset, its place in the ring and its fan-out in one step; complete on return.
     *
     * @throws CourierException ETOPIC_NOTFOUND when the topic does not keep history (or is unknown)
     */
    @Override
    public CompletionStage<Position> publish(String audience, String topic, ByteBuf message) {
        return CompletableFuture.completedFuture(publishNow(audience, topic, message));
    }

    /** {@link #publish} for callers of this class. Any thread. */
    public Position publishNow(String audience, String topic, ByteBuf message) {
        long offset = ring(audience, topic).publish(hub, alloc, message, nanoClock.getAsLong());
        return new Position(offset, epoch);
    }

    /** Snapshot and join in one step, under the ring's lock: complete on return. */
    @Override
    public CompletionStage<Recovery> subscribe(Subscriber s, String topic, Position since) {
        return CompletableFuture.completedFuture(ring(s.audience(), topic)
                .subscribe(hub, s, since, epoch, config.recoveryLimit(), nanoClock.getAsLong()));
    }

    /** Nothing arrives in between on a single node: the subscription is live from its snapshot. */
    @Override
    public List<ByteBuf> live(Subscriber s, String topic, Recovery recovery) {
        return List.of();
    }

    @Override
    public CompletionStage<Page> read(String audience, String topic, long since, int limit) {
        return CompletableFuture.completedFuture(new Page(epoch, readNow(audience, topic, since, limit)));
    }

    /** The retained messages after offset {@code since}, oldest first, at most {@code limit}. Any thread. */
    public List<Publication> readNow(String audience, String topic, long since, int limit) {
        return ring(audience, topic).read(since, limit, nanoClock.getAsLong());
    }

    /** The topic's current position. Any thread. */
    public Position position(String audience, String topic) {
        return new Position(ring(audience, topic).last(), epoch);
    }

    /** Bytes all rings hold ({@code courier_history_bytes}). */
    public long heldBytes() {
        return budget.heldBytes();
    }

    /** Drops expired messages everywhere, then the oldest across topics while above 90% of the budget. */
    public void sweep() {
        long now = nanoClock.getAsLong();
        for (Map<String, Ring> topics : rings.values()) {
            for (Ring ring : topics.values()) {
                ring.sweep(now, false);
            }
        }
        while (budget.overSweepMark()) {
            Ring oldest = null;
            long oldestAt = Long.MAX_VALUE;
            for (Map<String, Ring> topics : rings.values()) {
                for (Ring ring : topics.values()) {
                    long at = ring.oldestNanos();
                    if (at != Long.MAX_VALUE && (oldest == null || at - oldestAt < 0)) {
                        oldest = ring;
                        oldestAt = at;
                    }
                }
            }
            if (oldest == null || oldest.sweep(now, true) == 0) {
                return;
            }
        }
    }

    private Ring ring(String audience, String topic) {
        ConcurrentHashMap<String, Ring> topics = rings.get(audience);
        Ring ring = topics == null ? null : topics.get(topic);
        if (ring != null) {
            return ring;
        }
        HistorySettings settings = hub.topics().history(audience, topic);
        if (!settings.enabled()) {
            throw new CourierException(
                    ErrorCode.ETOPIC_NOTFOUND, "no history topic '" + topic + "' in audience " + audience);
        }
        return rings.computeIfAbsent(audience, a -> new ConcurrentHashMap<>())
                .computeIfAbsent(topic, t -> new Ring(audience, t, settings, budget));
    }

    /** Releases every retained frame. */
    @Override
    public void close() {
        for (Map<String, Ring> topics : rings.values()) {
            for (Ring ring : topics.values()) {
                ring.clear();
            }
        }
    }
}
