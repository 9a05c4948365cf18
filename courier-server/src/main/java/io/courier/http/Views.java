package io.courier.http;

import com.fasterxml.jackson.core.JsonGenerator;
import io.courier.store.Audience;
import io.courier.store.Topic;
import java.io.IOException;

/** The JSON shapes of stored records. Field names are part of the API: existing clients read them. */
final class Views {
    private Views() {}

    static void audience(JsonGenerator gen, Audience a) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("id", a.id().toString());
        gen.writeStringField("name", a.name());
        gen.writeStringField("created_at", a.createdAt().toString());
        gen.writeStringField("updated_at", a.updatedAt().toString());
        gen.writeEndObject();
    }

    static void topic(JsonGenerator gen, Topic t) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("id", t.id().toString());
        gen.writeStringField("topic", t.name());
        gen.writeStringField("audience", t.audience());
        gen.writeStringField("audienceId", t.audienceId().toString());
        gen.writeStringField("created_at", t.createdAt().toString());
        gen.writeStringField("updated_at", t.updatedAt().toString());
        // Always present, so a client can tell "no history" (size 0) from an older server.
        gen.writeObjectFieldStart("history");
        gen.writeNumberField("size", t.history().size());
        gen.writeNumberField("ttl", t.history().ttlSeconds());
        gen.writeEndObject();
        gen.writeEndObject();
    }
}
