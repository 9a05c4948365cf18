package io.courier.http;

import io.courier.cluster.Broker;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.history.HistoryEngine;
import io.courier.history.Position;
import io.courier.hub.Hub;
import io.courier.limit.AudienceRateLimit;
import io.courier.metrics.CourierMetrics;
import io.courier.metrics.MessageSource;
import io.courier.protocol.Action;
import io.courier.protocol.Command;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /v1/hook}: a backend publishes or broadcasts exactly as a socket client would, straight
 * into the hub (no loopback socket, no database). Answers 200 with the request object.
 */
public final class HookRoute {
    /** On a history topic, the offset the message was given and its epoch (the body stays the request). */
    static final String OFFSET_HEADER = "Courier-Offset";

    static final String EPOCH_HEADER = "Courier-Epoch";

    private final Hub hub;
    /** Null on a single node. */
    private final Broker cluster;
    /** The single node's topic histories; null in a cluster (for now). */
    private final HistoryEngine histories;

    private final CourierMetrics metrics;
    private final AudienceRateLimit rateLimit;

    /** @param rateLimit {@code courier.hook.rate.limit.per.second}, per audience */
    public HookRoute(Hub hub, CourierMetrics metrics, AudienceRateLimit rateLimit) {
        this(hub, null, null, metrics, rateLimit);
    }

    /**
     * @param cluster the fan-out between nodes, or null on a single node
     * @param histories the single node's topic histories, or null
     */
    public HookRoute(
            Hub hub, Broker cluster, HistoryEngine histories, CourierMetrics metrics, AudienceRateLimit rateLimit) {
        this.hub = hub;
        this.cluster = cluster;
        this.histories = histories;
        this.metrics = metrics;
        this.rateLimit = rateLimit;
    }

    public void register(Router router) {
        router.post("/v1/hook", true, this::hook);
    }

    private void hook(Exchange ex) {
        try {
            publish(ex);
        } catch (CourierException e) {
            metrics.refused(e.code());
            throw e;
        }
    }

    private void publish(Exchange ex) {
        String audience = ex.principal().audience();
        // Before any parsing: one tenant's flood must cost the others as little as possible.
        if (!rateLimit.tryAcquire(audience)) {
            throw new CourierException(
                    ErrorCode.ERATE_LIMITED,
                    "the audience calls the hook more often than "
                            + "courier.hook.rate.limit.per.second allows; retry later");
        }
        ByteBuf body = ex.request().content();
        // Subscribers' clients fail on a frame that is not UTF-8 (RFC 6455 section 8.1), and the
        // message is copied into frames as it is: refuse it here, as the socket's validator does.
        if (!ByteBufUtil.isText(body, StandardCharsets.UTF_8)) {
            throw new CourierException(ErrorCode.EBODY_INVALID, "request body is not valid UTF-8");
        }
        Command command = Command.decode(body);
        if (command.failed()) {
            throw command.error();
        }
        if (cluster != null
                && command.action() == Action.PUBLISH
                && !hub.topics().contains(audience, command.topic())) {
            // Another node may have created it: ask the store off the event loop, then publish.
            body.retain();
            hub.topics().resolve(audience, command.topic()).whenComplete((known, error) -> {
                try {
                    if (error != null) {
                        ex.fail(refused(error));
                    } else if (!known) {
                        ex.fail(refused(new CourierException(
                                ErrorCode.ETOPIC_NOTFOUND,
                                "no topic '" + command.topic() + "' in audience " + audience)));
                    } else {
                        deliver(ex, audience, command, body);
                    }
                } catch (RuntimeException e) {
                    ex.fail(refused(e));
                } finally {
                    body.release();
                }
            });
            return;
        }
        deliver(ex, audience, command, body);
    }

    private Throwable refused(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof CourierException e) {
            metrics.refused(e.code());
        }
        return cause;
    }

    private void deliver(Exchange ex, String audience, Command command, ByteBuf body) {
        if (command.action() == Action.PUBLISH && histories != null && histories.keeps(audience, command.topic())) {
            // Answered once the message has its offset; the body outlives this call until then.
            ByteBuf answer = body.retainedDuplicate();
            CompletionStage<Position> stored;
            try {
                stored = histories.publish(audience, command.topic(), command.message(body));
            } catch (RuntimeException e) {
                answer.release();
                throw e;
            }
            stored.whenComplete((at, error) -> {
                if (error != null) {
                    answer.release();
                    ex.fail(refused(error));
                    return;
                }
                metrics.published(MessageSource.HOOK, false);
                ex.respond(
                        HttpResponseStatus.OK,
                        answer,
                        Map.of(OFFSET_HEADER, Long.toString(at.offset()), EPOCH_HEADER, at.epoch()));
            });
            return;
        }
        if (command.action() == Action.PUBLISH) {
            if (cluster == null) {
                hub.publish(audience, command.topic(), command.message(body));
            } else {
                cluster.publish(audience, command.topic(), command.message(body));
            }
        } else if (command.action() == Action.BROADCAST) {
            if (cluster == null) {
                hub.broadcast(audience, command.message(body));
            } else {
                cluster.broadcast(audience, command.message(body));
            }
        } else {
            throw new CourierException(ErrorCode.EACTION_INVALID, "the hook accepts publish and broadcast only");
        }
        metrics.published(MessageSource.HOOK, command.action() == Action.BROADCAST);
        ex.respond(HttpResponseStatus.OK, body.retainedDuplicate());
    }
}
