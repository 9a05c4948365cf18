package io.courier.testing;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Reads one top-level or nested field out of a JSON text, for assertions (jackson-core only). */
public final class JsonField {
    private JsonField() {}

    /**
     * The text of the value at {@code path} (dot-separated object keys, e.g. {@code error.code}),
     * or null when absent. Objects and arrays come back as null; use it for scalars.
     */
    public static String get(String json, String path) {
        String[] keys = path.split("\\.");
        try (JsonParser p = Json.FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            return find(p, keys, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    private static String find(JsonParser p, String[] keys, int depth) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if (name.equals(keys[depth])) {
                if (depth == keys.length - 1) {
                    return value.isScalarValue() ? p.getText() : null;
                }
                if (value == JsonToken.START_OBJECT) {
                    return find(p, keys, depth + 1);
                }
                return null;
            }
            p.skipChildren();
        }
        return null;
    }
}
