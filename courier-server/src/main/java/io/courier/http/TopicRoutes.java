package io.courier.http;

import io.courier.hub.Catalog;
import io.courier.protocol.TopicNames;
import io.courier.store.AsyncStore;
import io.courier.store.Topic;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * {@code POST /v1/topic} creates a topic in the token's audience; {@code GET /v1/topic} lists them,
 * oldest first. A created topic is added to the in-memory {@link Catalog} before the 201 leaves,
 * so a client may subscribe to it as soon as it has the answer.
 */
public final class TopicRoutes {
    private final AsyncStore store;
    private final Catalog catalog;

    public TopicRoutes(AsyncStore store, Catalog catalog) {
        this.store = store;
        this.catalog = catalog;
    }

    public void register(Router router) {
        router.post("/v1/topic", true, this::create);
        router.get("/v1/topic", true, this::list);
    }

    private void create(Exchange ex) {
        String topic = TopicNames.validate(ex.jsonBody().get("topic"));
        String audience = ex.principal().audience();
        ex.answer(store.createTopic(audience, topic), created -> {
            catalog.add(created.audience(), created.name());
            ex.respond(HttpResponseStatus.CREATED, gen -> Views.topic(gen, created));
        });
    }

    private void list(Exchange ex) {
        ex.answer(store.listTopics(ex.principal().audience()), (List<Topic> topics) -> ex.respond(HttpResponseStatus.OK, gen -> {
            gen.writeStartArray();
            for (Topic t : topics) {
                Views.topic(gen, t);
            }
            gen.writeEndArray();
        }));
    }
}
