package io.courier.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.error.ErrorCode;
import io.courier.testing.JsonField;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Assertions shared by the REST integration tests. JSON is read with a plain jackson-core factory of
 * its own, not the server's {@link Json}, so a bug there cannot hide itself.
 */
final class ApiAssertions {
    private static final JsonFactory JSON = new JsonFactory();

    private ApiAssertions() {}

    /** Status, JSON content type and the one error body {@code {"error":{"code","message"}}}. */
    static void assertError(HttpResponse<String> response, int status, ErrorCode code) {
        String where = response.request().method() + " " + response.uri().getPath() + " -> " + response.statusCode()
                + " " + response.body();
        assertEquals(status, response.statusCode(), where);
        assertEquals(status, code.httpStatus(), "test expects a status that " + code + " does not carry");
        assertJsonContentType(response.headers().firstValue("Content-Type").orElse(null), where);
        assertErrorBody(response.body(), code, where);
    }

    static void assertJsonContentType(String contentType, String where) {
        assertNotNull(contentType, "no Content-Type: " + where);
        assertTrue(
                contentType.toLowerCase().startsWith("application/json"), "Content-Type " + contentType + ": " + where);
    }

    static void assertErrorBody(String body, ErrorCode code, String where) {
        Map<String, String> outer = object(body);
        assertEquals(List.of("error"), List.copyOf(outer.keySet()), "error body shape: " + where);
        assertEquals(code.name(), JsonField.get(body, "error.code"), where);
        String message = JsonField.get(body, "error.message");
        assertNotNull(message, "error.message missing: " + where);
        assertFalse(message.isBlank(), "error.message blank: " + where);
    }

    static void assertStatus(int status, HttpResponse<String> response) {
        assertEquals(
                status,
                response.statusCode(),
                () -> response.request().method() + " " + response.uri().getPath() + " -> " + response.statusCode()
                        + " " + response.body());
    }

    /** A canonical UUID string, as the API writes ids. */
    static UUID assertUuid(String text) {
        assertNotNull(text, "id missing");
        UUID id = UUID.fromString(text);
        assertEquals(id.toString(), text, "id not in canonical UUID form");
        return id;
    }

    /** An RFC 3339 UTC timestamp that is not in the future. */
    static Instant assertTimestamp(String text) {
        assertNotNull(text, "timestamp missing");
        Instant instant = Instant.parse(text);
        assertFalse(instant.isAfter(Instant.now().plusSeconds(5)), "timestamp in the future: " + text);
        return instant;
    }

    /**
     * The top-level fields of a JSON object in document order. Scalars keep their text (null stays
     * null); nested objects and arrays become the marker {@code "<object>"} / {@code "<array>"}.
     */
    static Map<String, String> object(String json) {
        try (JsonParser p = JSON.createParser(json)) {
            assertEquals(JsonToken.START_OBJECT, p.nextToken(), "not a JSON object: " + json);
            Map<String, String> fields = readObject(p);
            assertEquals(null, p.nextToken(), "content after the object: " + json);
            return fields;
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    /** A JSON array of objects, each read as by {@link #object}. */
    static List<Map<String, String>> array(String json) {
        try (JsonParser p = JSON.createParser(json)) {
            assertEquals(JsonToken.START_ARRAY, p.nextToken(), "not a JSON array: " + json);
            List<Map<String, String>> items = new ArrayList<>();
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
                items.add(readObject(p));
            }
            assertEquals(JsonToken.END_ARRAY, t, "array holds a non-object: " + json);
            assertEquals(null, p.nextToken(), "content after the array: " + json);
            return items;
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    private static Map<String, String> readObject(JsonParser p) throws IOException {
        Map<String, String> fields = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            String text = switch (value) {
                case START_OBJECT -> "<object>";
                case START_ARRAY -> "<array>";
                case VALUE_NULL -> null;
                default -> p.getText();
            };
            p.skipChildren();
            assertFalse(fields.containsKey(name), "duplicate field " + name);
            fields.put(name, text);
        }
        return fields;
    }
}
