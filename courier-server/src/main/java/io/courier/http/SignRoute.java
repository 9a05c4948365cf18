package io.courier.http;

import io.courier.auth.ConnectionKeys;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.store.AsyncStore;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code GET /v1/sign}: hands out a short-lived key for opening a WebSocket, so the bearer JWT never
 * travels in a URL (URLs end up in proxy logs).
 */
public final class SignRoute {
    private final AsyncStore store;
    private final ConnectionKeys keys;
    private final String wsUrl;

    public SignRoute(AsyncStore store, ConnectionKeys keys, String wsUrl) {
        this.store = store;
        this.keys = keys;
        this.wsUrl = wsUrl;
    }

    public void register(Router router) {
        router.get("/v1/sign", true, this::sign);
    }

    private void sign(Exchange ex) {
        String audience = ex.principal().audience();
        ex.answer(store.findAudience(audience), found -> {
            if (found.isEmpty()) {
                throw new CourierException(
                        ErrorCode.EAUD_NOTFOUND,
                        "audience " + audience + " does not exist (create it with POST /v1/audience)");
            }
            String key = keys.sign(ex.principal());
            ex.respond(HttpResponseStatus.OK, gen -> {
                gen.writeStartObject();
                gen.writeStringField("key", key);
                gen.writeStringField("url", wsUrl + "?token=" + key);
                gen.writeEndObject();
            });
        });
    }
}
