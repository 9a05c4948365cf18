package io.courier.http;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.history.HistoryEngine;
import io.courier.history.Publication;
import io.courier.hub.KnownTopics;
import io.courier.protocol.TopicNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/history?topic=…&since=…&limit=…}: a history topic's retained messages after offset
 * {@code since} (default 0: all), oldest first, at most {@code limit} (default 100, at most 1000),
 * for backends: {@code {"topic":…,"epoch":…,"publications":[{"offset":…,"message":{…}}]}}. A single
 * node answers from memory on the event loop; a cluster node reads JetStream off the loop.
 */
public final class HistoryRoute {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final KnownTopics topics;
    private final HistoryEngine histories;

    public HistoryRoute(KnownTopics topics, HistoryEngine histories) {
        this.topics = topics;
        this.histories = histories;
    }

    public void register(Router router) {
        router.get("/v1/history", true, this::read);
    }

    private void read(Exchange ex) {
        Map<String, List<String>> query = new QueryStringDecoder(ex.request().uri()).parameters();
        String topic = TopicNames.validate(single(query, "topic"));
        long since = number(query, "since", 0, 0, Long.MAX_VALUE);
        int limit = (int) number(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
        String audience = ex.principal().audience();
        if (!topics.contains(audience, topic)) {
            throw new CourierException(ErrorCode.ETOPIC_NOTFOUND, "no topic '" + topic + "' in audience " + audience);
        }
        if (!histories.keeps(audience, topic)) {
            throw new CourierException(ErrorCode.EHISTORY_INVALID, "topic '" + topic + "' keeps no history");
        }
        ex.answer(
                histories.read(audience, topic, since, limit).toCompletableFuture(), page -> respond(ex, topic, page));
    }

    private static void respond(Exchange ex, String topic, HistoryEngine.Page page) {
        String epoch = page.epoch();
        List<Publication> publications = page.publications();
        try {
            ex.respond(HttpResponseStatus.OK, gen -> {
                gen.writeStartObject();
                gen.writeStringField("topic", topic);
                gen.writeStringField("epoch", epoch);
                gen.writeArrayFieldStart("publications");
                for (Publication p : publications) {
                    gen.writeStartObject();
                    gen.writeNumberField("offset", p.offset());
                    gen.writeFieldName("message");
                    // The bytes as published (valid UTF-8, one JSON object), not re-serialised.
                    gen.writeRawValue(p.message().toString(StandardCharsets.UTF_8));
                    gen.writeEndObject();
                }
                gen.writeEndArray();
                gen.writeEndObject();
            });
        } finally {
            publications.forEach(p -> p.message().release());
        }
    }

    private static String single(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        if (values != null && values.size() > 1) {
            throw new CourierException(ErrorCode.EHISTORY_INVALID, name + " given more than once");
        }
        return values == null ? null : values.get(0);
    }

    private static long number(Map<String, List<String>> query, String name, long absent, long min, long max) {
        String raw = single(query, name);
        if (raw == null) {
            return absent;
        }
        try {
            long value = Long.parseLong(raw);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new CourierException(ErrorCode.EHISTORY_INVALID, name + " must be an integer from " + min + " to " + max);
    }
}
