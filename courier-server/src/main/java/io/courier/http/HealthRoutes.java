package io.courier.http;

import io.courier.cluster.Broker;
import io.courier.store.AsyncStore;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.function.BooleanSupplier;

/**
 * {@code /healthz} (the process answers) and {@code /readyz} (the database answers, and the server
 * is not draining for a stop). No authentication. In a cluster {@code /readyz} also reports
 * {@code "cluster":"up"} or {@code "down"}, but NATS does not change its status: when the shared
 * broker is down every node is equally degraded, and taking them all out of the load balancer would
 * help no one (the metric carries the outage).
 */
public final class HealthRoutes {
    private final AsyncStore store;
    private final BooleanSupplier draining;
    /** Null on a single node. */
    private final Broker cluster;

    /**
     * @param draining true once a graceful stop began: {@code /readyz} then answers 503 at once
     * @param cluster the fan-out between nodes, or null on a single node
     */
    public HealthRoutes(AsyncStore store, BooleanSupplier draining, Broker cluster) {
        this.store = store;
        this.draining = draining;
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
        if (draining.getAsBoolean()) {
            // A load balancer checking /readyz stops sending new clients; the node still serves its own.
            ex.respond(HttpResponseStatus.SERVICE_UNAVAILABLE, gen -> {
                gen.writeStartObject();
                gen.writeStringField("status", "draining");
                gen.writeEndObject();
            });
            return;
        }
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
