package io.courier.testing;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads a JSON array of flat objects (e.g. {@code GET /v1/topic}) for assertions (jackson-core only). */
public final class JsonList {
    private JsonList() {}

    /** Each element's scalar fields as text; nested values are skipped. Fails on anything but an array of objects. */
    public static List<Map<String, String>> objects(String json) {
        try (JsonParser p = Json.FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new AssertionError("expected a JSON array: " + json);
            }
            List<Map<String, String>> list = new ArrayList<>();
            while (p.nextToken() == JsonToken.START_OBJECT) {
                Map<String, String> object = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken value = p.nextToken();
                    if (value.isScalarValue()) {
                        object.put(name, value == JsonToken.VALUE_NULL ? null : p.getText());
                    } else {
                        p.skipChildren();
                    }
                }
                list.add(object);
            }
            if (p.currentToken() != JsonToken.END_ARRAY) {
                throw new AssertionError("expected an array of objects: " + json);
            }
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    /** The values of {@code field} in each element, in order. */
    public static List<String> field(String json, String field) {
        return objects(json).stream().map(o -> o.get(field)).toList();
    }
}
