package io.courier.http;

import io.courier.store.AsyncStore;
import io.netty.handler.codec.http.HttpResponseStatus;

/** {@code /healthz} (the process answers) and {@code /readyz} (the database answers). No authentication. */
public final class HealthRoutes {
    private final AsyncStore store;

    public HealthRoutes(AsyncStore store) {
        this.store = store;
    }

    public void register(Router router) {
        router.get("/healthz", false, this::health);
        router.get("/readyz", false, this::ready);
    }

    private void health(Exchange ex) {
        ex.respond(HttpResponseStatus.OK, gen -> {
            gen.writeStartObject();
            gen.writeStringField("status", "ok");
            gen.writeEndObject();
        });
    }

    private void ready(Exchange ex) {
        ex.answer(
                store.isReady(),
                ready -> ex.respond(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, gen -> {
                    gen.writeStartObject();
                    gen.writeStringField("status", ready ? "ready" : "not ready");
                    gen.writeStringField("database", ready ? "up" : "down");
                    gen.writeEndObject();
                }));
    }
}
