package io.courier.http;

import io.courier.store.AsyncStore;
import io.netty.handler.codec.http.HttpResponseStatus;

/** {@code POST /v1/audience}: creates the token's audience; a repeat returns the same record. */
public final class AudienceRoutes {
    private final AsyncStore store;

    public AudienceRoutes(AsyncStore store) {
        this.store = store;
    }

    public void register(Router router) {
        router.post("/v1/audience", true, this::create);
    }

    private void create(Exchange ex) {
        ex.answer(
                store.createAudience(ex.principal().audience()),
                created -> ex.respond(
                        created.created() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                        gen -> Views.audience(gen, created.value())));
    }
}
