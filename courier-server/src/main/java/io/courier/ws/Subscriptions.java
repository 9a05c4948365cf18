package io.courier.ws;

import io.courier.cluster.Broker;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.history.Histories;
import io.courier.history.Position;
import io.courier.history.Recovery;
import io.courier.hub.Hub;
import io.courier.hub.Subscriber;
import io.courier.protocol.Command;
import io.courier.protocol.Replies;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One connection's subscribe and unsubscribe, including recovery on history topics. A topic
 * without history subscribes as it always has; a history topic's subscribe is always answered
 * (with or without an id: the position and the verdict must reach the client), by an ack carrying
 * the position, then the replayed frames, then live deliveries, with nothing in between: the ack
 * and replay are written on this event loop before its fan-out runs again, and the hub skips for
 * this subscriber every frame up to the replayed position ({@link Histories}). Event loop only.
 */
final class Subscriptions {
    /** Returned by {@link #subscribe} when it wrote the answer itself. */
    static final CompletionStage<Void> ANSWERED = CompletableFuture.completedFuture(null);

    private final Hub hub;
    /** Null on a single node. */
    private final Broker cluster;
    /** Null in a cluster, where history topics (for now) behave as topics without history. */
    private final Histories histories;

    private final String audience;
    private final int maxSubscriptions;
    private final Subscriber subscriber;

    Subscriptions(Hub hub, Broker cluster, Histories histories, Subscriber subscriber, int maxSubscriptions) {
        this.hub = hub;
        this.cluster = cluster;
        this.histories = histories;
        this.subscriber = subscriber;
        this.audience = subscriber.audience();
        this.maxSubscriptions = maxSubscriptions;
    }

    /**
     * Returns null when the subscription is complete now (the caller acks if the client asked), a
     * stage that completes when it is, or {@link #ANSWERED}.
     */
    CompletionStage<Void> subscribe(ChannelHandlerContext ctx, Command command) {
        String topic = command.topic();
        boolean history = histories != null && histories.keeps(audience, topic);
        if (subscriber.isSubscribed(topic)) {
            if (!history) {
                return null;
            }
            // A repeat changes nothing; the ack reports where the stream stands (no verdict, no replay).
            Position now = histories.position(audience, topic);
            ctx.writeAndFlush(ack(ctx, command, now.offset(), now.epoch(), null));
            return ANSWERED;
        }
        if (!hub.topics().contains(audience, topic)) {
            throw new CourierException(ErrorCode.ETOPIC_NOTFOUND, "no topic '" + topic + "' in audience " + audience);
        }
        if (subscriber.subscriptionCount() >= maxSubscriptions) {
            throw new CourierException(
                    ErrorCode.ESUBSCRIPTION_LIMIT, "at most " + maxSubscriptions + " subscriptions per connection");
        }
        if (history) {
            Position since = command.hasSince() ? new Position(command.sinceOffset(), command.sinceEpoch()) : null;
            Recovery recovery = histories.subscribe(subscriber, topic, since);
            Position at = recovery.position();
            ctx.write(ack(ctx, command, at.offset(), at.epoch(), recovery.recovered()));
            subscriber.replay(recovery.replay());
            return ANSWERED;
        }
        hub.subscribe(subscriber, topic);
        CompletionStage<Void> joined = cluster == null ? null : cluster.join(audience, topic);
        if (!command.hasSince()) {
            return joined;
        }
        // The client asked to recover on a topic that keeps no history: it must learn it cannot.
        if (joined == null || joined.toCompletableFuture().isDone()) {
            ctx.writeAndFlush(ack(ctx, command, 0, null, false));
        } else {
            joined.whenComplete((ok, error) -> ctx.executor().execute(() -> {
                if (ctx.channel().isActive()) {
                    ctx.writeAndFlush(ack(ctx, command, 0, null, false));
                }
            }));
        }
        return ANSWERED;
    }

    /** Returns true when a subscription ended. */
    boolean unsubscribe(String topic) {
        if (hub.unsubscribe(subscriber, topic) && cluster != null) {
            cluster.leave(audience, topic);
            return true;
        }
        return false;
    }

    private static TextWebSocketFrame ack(
            ChannelHandlerContext ctx, Command command, long offset, String epoch, Boolean recovered) {
        return new TextWebSocketFrame(Replies.historyAck(ctx.alloc(), command, offset, epoch, recovered));
    }
}
