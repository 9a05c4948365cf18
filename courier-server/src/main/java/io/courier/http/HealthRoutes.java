package io.courier.http;

import io.courier.cluster.Broker;
import io.courier.store.AsyncStore;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code /healthz} (the process answers) and {@code /readyz} (the database answers). No authentication.
 * In a cluster {@code /readyz} also reports {@code "cluster":"up"} or {@code "down"}, but NATS does
 * not change its status: when the shared broker is down every node is equally degraded, and taking
 * them all out of the load balancer would help no one (the metric carries the outage).
 */
public final class HealthRoutes {
    private final AsyncStore store;
    /** Null on a single node. */
    private final Broker cluster;

    public HealthRoutes(AsyncStore store) {
        this(store, null);
    }

    /** @param cluster the fan-out between nodes, or null on a single node */
    public HealthRoutes(AsyncStore store, Broker cluster) {
        this.store = store;
        this.cluster = cluster;
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
                    if (cluster != null) {
                        gen.writeStringField("cluster", cluster.isUp() ? "up" : "down");
                    }
                    gen.writeEndObject();
                }));
    }
}
