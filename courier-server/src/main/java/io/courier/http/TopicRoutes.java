package io.courier.http;

import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.protocol.TopicNames;
import io.courier.store.Topic;
import io.courier.topic.Topics;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * {@code POST /v1/topic} creates a topic in the token's audience, with its history settings
 * ({@link HistoryRequest}); {@code GET /v1/topic} lists them, oldest first. {@link Topics} makes a created topic known to the hub before the 201 leaves, so a
 * client may subscribe to it as soon as it has the answer.
 */
public final class TopicRoutes {
    private final Topics topics;
    private final Config.HistoryConfig history;

    public TopicRoutes(Topics topics, Config.HistoryConfig history) {
        this.topics = topics;
        this.history = history;
    }

    public void register(Router router) {
        router.post("/v1/topic", true, this::create);
        router.get("/v1/topic", true, this::list);
    }

    private void create(Exchange ex) {
        String topic = TopicNames.validate(ex.jsonBody().get("topic"));
        HistorySettings settings = HistoryRequest.read(ex.request().content(), history);
        String audience = ex.principal().audience();
        ex.answer(
                topics.create(audience, topic, settings),
                created -> ex.respond(HttpResponseStatus.CREATED, gen -> Views.topic(gen, created)));
    }

    private void list(Exchange ex) {
        ex.answer(
                topics.list(ex.principal().audience()),
                (List<Topic> list) -> ex.respond(HttpResponseStatus.OK, gen -> {
                    gen.writeStartArray();
                    for (Topic t : list) {
                        Views.topic(gen, t);
                    }
                    gen.writeEndArray();
                }));
    }
}
