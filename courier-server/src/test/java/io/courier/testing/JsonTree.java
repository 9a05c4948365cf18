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

/**
 * A whole JSON document as plain Java values, for tests that walk a structure (a Grafana dashboard,
 * a Prometheus API answer): objects become {@code Map<String, Object>} in document order, arrays
 * {@code List<Object>}, numbers {@code Double}, then {@code String}, {@code Boolean} and null.
 * jackson-core only, like the rest of the kit; {@link JsonField} reads single fields.
 */
public final class JsonTree {
    private JsonTree() {}

    public static Object parse(String json) {
        try (JsonParser p = Json.FACTORY.createParser(json)) {
            if (p.nextToken() == null) {
                throw new IllegalArgumentException("empty JSON document");
            }
            Object value = read(p);
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("content after the JSON value at " + p.currentLocation());
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + e.getMessage(), e);
        }
    }

    /** The document, which must be an object. */
    public static Map<String, Object> object(String json) {
        return asObject(parse(json), "document");
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object value, String what) {
        if (!(value instanceof Map)) {
            throw new AssertionError(what + ": expected a JSON object, got " + value);
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    public static List<Object> asList(Object value, String what) {
        if (!(value instanceof List)) {
            throw new AssertionError(what + ": expected a JSON array, got " + value);
        }
        return (List<Object>) value;
    }

    private static Object read(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (map.put(name, read(p)) != null) {
                        throw new IllegalArgumentException("duplicate key " + name + " at " + p.currentLocation());
                    }
                }
                return map;
            }
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(read(p));
                }
                return list;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw new IllegalArgumentException("unexpected " + t + " at " + p.currentLocation());
        }
    }
}
