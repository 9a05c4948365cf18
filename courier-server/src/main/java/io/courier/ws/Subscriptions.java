package io.courier.ws;

import io.courier.cluster.Broker;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.history.HistoryEngine;
import io.courier.history.Position;
import io.courier.history.Recovery;
import io.courier.hub.Hub;
import io.courier.hub.Subscriber;
import io.courier.metrics.CourierMetrics;
import io.courier.protocol.Command;
import io.courier.protocol.Replies;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;

/**
 * One connection's subscribe and unsubscribe, including recovery on history topics. A topic
 * without history subscribes as it always has; a history topic's subscribe is always answered
 * (with or without an id: the position and the verdict must reach the client), by an ack carrying
 * the position, then the replayed frames, then live deliveries, with nothing in between: the ack,
 * the replay and what arrived meanwhile are written in one event-loop task, and only then does the
 * subscription go live ({@link HistoryEngine#live}). Event loop only.
 */
final class Subscriptions {
    /** Returned by {@link #subscribe} when it answers the client itself. */
    static final CompletionStage<Void> ANSWERED = CompletableFuture.completedFuture(null);

    private final Hub hub;
    /** Null on a single node. */
    private final Broker cluster;
    /** Null where no history is kept (tests of the session alone). */
    private final HistoryEngine history;

    private final String audience;
    private final int maxSubscriptions;
    private final Subscriber subscriber;
    private final CourierMetrics metrics;

    Subscriptions(
            Hub hub,
            Broker cluster,
            HistoryEngine history,
            Subscriber subscriber,
            int maxSubscriptions,
            CourierMetrics metrics) {
        this.hub = hub;
        this.cluster = cluster;
        this.history = history;
        this.metrics = metrics;
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
        boolean keeps = history != null && history.keeps(audience, topic);
        if (subscriber.isSubscribed(topic)) {
            if (!keeps) {
                return null;
            }
            // A repeat changes nothing: the client keeps its position, so no position and no verdict.
            ctx.writeAndFlush(ack(ctx, command, 0, null, null));
            return ANSWERED;
        }
        if (!hub.topics().contains(audience, topic)) {
            throw new CourierException(ErrorCode.ETOPIC_NOTFOUND, "no topic '" + topic + "' in audience " + audience);
        }
        if (subscriber.subscriptionCount() >= maxSubscriptions) {
            throw new CourierException(
                    ErrorCode.ESUBSCRIPTION_LIMIT, "at most " + maxSubscriptions + " subscriptions per connection");
        }
        if (keeps) {
            recover(ctx, command);
            return ANSWERED;
        }
        hub.subscribe(subscriber, topic);
        CompletionStage<Void> joined = cluster == null ? null : cluster.join(audience, topic);
        if (!command.hasSince()) {
            return joined;
        }
        // The client asked to recover on a topic that keeps no history: it must learn it cannot.
        onLoop(ctx, joined == null ? ANSWERED : joined, (ok, error) -> {
            if (subscriber.accepting()) {
                ctx.writeAndFlush(ack(ctx, command, 0, null, false));
            }
        });
        return ANSWERED;
    }

    private void recover(ChannelHandlerContext ctx, Command command) {
        String topic = command.topic();
        Position since = command.hasSince() ? new Position(command.sinceOffset(), command.sinceEpoch()) : null;
        // In a cluster the engine also joins this node's interest, paired with the leave of
        // unsubscribe or close as for any topic.
        CompletionStage<Recovery> answer = history.subscribe(subscriber, topic, since);
        onLoop(ctx, answer, (recovery, error) -> {
            if (error != null) {
                // Nothing was delivered on it: undo the subscription and say why.
                unsubscribe(topic);
                Throwable cause =
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                ErrorCode code = cause instanceof CourierException e ? e.code() : ErrorCode.EUNAVAILABLE;
                ctx.writeAndFlush(new TextWebSocketFrame(
                        Replies.error(ctx.alloc(), command, code, "cannot read the topic's history now; retry later")));
                return;
            }
            List<ByteBuf> frames = new ArrayList<>(recovery.replay());
            frames.addAll(history.live(subscriber, topic, recovery));
            if (!subscriber.accepting()) {
                frames.forEach(ByteBuf::release); // closing: no data frame after the close frame
                return;
            }
            Position at = recovery.position();
            if (recovery.recovered() != null) {
                metrics.recovery(recovery.recovered());
            }
            ctx.write(ack(ctx, command, at.offset(), at.epoch(), recovery.recovered()));
            subscriber.replay(frames);
        });
    }

    /** Returns true when a subscription ended. */
    boolean unsubscribe(String topic) {
        if (hub.unsubscribe(subscriber, topic)) {
            if (cluster != null) {
                cluster.leave(audience, topic);
            }
            return true;
        }
        return false;
    }

    /**
     * Runs {@code then} on this connection's event loop: inline when the stage is complete and we
     * are on the loop already (a single node's recovery must be written before the loop's fan-out
     * runs again), else as a task; never on a closed channel.
     */
    private static <T> void onLoop(
            ChannelHandlerContext ctx, CompletionStage<T> stage, java.util.function.BiConsumer<T, Throwable> then) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (f.isDone() && ctx.executor().inEventLoop()) {
            T value = null;
            Throwable error = null;
            try {
                value = f.join();
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                error = e;
            }
            then.accept(value, error);
            return;
        }
        f.whenComplete((value, error) -> {
            try {
                // Run even on a closed channel: the answer's frames and buffers are released there.
                ctx.executor().execute(() -> then.accept(value, error));
            } catch (RejectedExecutionException e) {
                if (value instanceof Recovery r) {
                    r.replay().forEach(ByteBuf::release);
                }
            }
        });
    }

    private static TextWebSocketFrame ack(
            ChannelHandlerContext ctx, Command command, long offset, String epoch, Boolean recovered) {
        return new TextWebSocketFrame(Replies.historyAck(ctx.alloc(), command, offset, epoch, recovered));
    }
}
