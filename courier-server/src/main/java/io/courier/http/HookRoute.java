package io.courier.http;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.hub.Hub;
import io.courier.metrics.CourierMetrics;
import io.courier.metrics.MessageSource;
import io.courier.protocol.Action;
import io.courier.protocol.Command;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code POST /v1/hook}: a backend publishes or broadcasts exactly as a socket client would, straight
 * into the hub (no loopback socket, no database). Answers 200 with the request object.
 */
public final class HookRoute {
    private final Hub hub;
    private final CourierMetrics metrics;

    public HookRoute(Hub hub, CourierMetrics metrics) {
        this.hub = hub;
        this.metrics = metrics;
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
        String audience = ex.principal().audience();
        if (command.action() == Action.PUBLISH) {
            hub.publish(audience, command.topic(), command.message(body));
        } else if (command.action() == Action.BROADCAST) {
            hub.broadcast(audience, command.message(body));
        } else {
            throw new CourierException(ErrorCode.EACTION_INVALID, "the hook accepts publish and broadcast only");
        }
        metrics.published(MessageSource.HOOK, command.action() == Action.BROADCAST);
        ex.respond(HttpResponseStatus.OK, body.retainedDuplicate());
    }
}
