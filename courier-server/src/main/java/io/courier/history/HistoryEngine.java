package io.courier.history;

import io.courier.hub.Subscriber;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where history topics keep their messages: in memory on a single node ({@link Histories}), in
 * JetStream in a cluster. The sockets and the REST routes speak only to this interface.
 *
 * <p>What every implementation guarantees:
 * <ul>
 *   <li>a publish's stage completes only once the message has its offset, and offsets strictly
 *       increase per topic within an epoch (consecutive on a single node, not in a cluster);
 *   <li>every subscriber of a topic receives its messages in offset order, each at most once;
 *   <li>a recovery is all or nothing: {@code recovered:true} replays every message after the
 *       client's position and then goes on live with no gap and no duplicate, {@code false}
 *       replays nothing;
 *   <li>a subscriber that is still connected never silently misses an offset: where a loss is
 *       detected the hub is told ({@link io.courier.hub.Hub#stateLost}).
 * </ul>
 * Never blocks the caller: work that waits (JetStream) runs elsewhere and completes the stage.
 */
public interface HistoryEngine {
    /** True when the audience's topic keeps history. Any thread; from memory. */
    boolean keeps(String audience, String topic);

    /**
     * Publishes {@code message} (read before this returns, not consumed) to a history topic.
     * Any thread.
     *
     * @return completes with the message's position; fails with ECLUSTER_UNAVAILABLE when it
     *     cannot be stored (nothing was delivered)
     */
    CompletionStage<Position> publish(String audience, String topic, ByteBuf message);

    /**
     * Subscribes {@code s} to a history topic and decides its recovery from {@code since} (null:
     * the client gave none). The hub holds the subscription from now on, but delivers it nothing
     * until {@link #live} ran. Subscriber's event loop.
     *
     * @return completes with the answer; when it completes at once the caller may go on inline
     */
    CompletionStage<Recovery> subscribe(Subscriber s, String topic, Position since);

    /**
     * After the ack and {@code recovery}'s replay were written: the frames that arrived meanwhile
     * (to write right after, in order, caller owns them) and the subscription goes live with no
     * gap and no duplicate. Subscriber's event loop, in the same task as the writes.
     */
    List<ByteBuf> live(Subscriber s, String topic, Recovery recovery);

    /** The topic's retained messages after offset {@code since}, oldest first, at most {@code limit}. */
    CompletionStage<Page> read(String audience, String topic, long since, int limit);

    /** A read's answer: the epoch and the publications (the caller releases their messages). */
    record Page(String epoch, List<Publication> publications) {}
}
