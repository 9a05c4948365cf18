package io.courier.ws;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.metrics.CourierMetrics;
import io.courier.protocol.Command;
import io.courier.protocol.Replies;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/** The answer to a command whose effect may complete later. Event loop only. */
final class Acks {
    private Acks() {}

    /**
     * Acks when the client gave an id, once {@code done} completed (null: done now). Cluster: a
     * subscription is acked once NATS holds it, so a publish after the ack reaches this subscriber
     * from any node; a history publish once it has its offset, and refused with an error frame (id
     * or not) when it could not be stored. Back on the event loop to write, never once closing.
     */
    static void answer(
            ChannelHandlerContext ctx,
            Command command,
            CompletionStage<Void> done,
            CourierMetrics metrics,
            BooleanSupplier closing) {
        CompletableFuture<Void> f = done == null ? null : done.toCompletableFuture();
        if (f == null || (f.isDone() && !f.isCompletedExceptionally())) {
            if (command.id() != null) {
                ctx.writeAndFlush(new TextWebSocketFrame(Replies.ack(ctx.alloc(), command)));
            }
            return;
        }
        f.whenComplete((ok, error) -> ctx.executor().execute(() -> {
            if (!ctx.channel().isActive() || closing.getAsBoolean()) {
                return;
            }
            if (error == null) {
                if (command.id() != null) {
                    ctx.writeAndFlush(new TextWebSocketFrame(Replies.ack(ctx.alloc(), command)));
                }
                return;
            }
            Throwable cause =
                    error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            ErrorCode code = cause instanceof CourierException e ? e.code() : ErrorCode.EUNAVAILABLE;
            metrics.refused(code);
            ctx.writeAndFlush(new TextWebSocketFrame(Replies.error(ctx.alloc(), command, code, cause.getMessage())));
        }));
    }
}
