package io.courier.http;

import static io.courier.http.ApiAssertions.array;
import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static io.courier.http.ApiAssertions.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code courier.api.envelope}: bare answers by default; with {@code data} every successful
 * {@code /v1/*} answer is {@code {"data": …}} as the original Go Courier wrote it, so its client
 * (websublime/courier-js, which reads {@code .data}) works unchanged. Errors are never wrapped.
 */
class EnvelopeIT {
    private static final List<String> AUDIENCE_FIELDS = List.of("id", "name", "created_at", "updated_at");
    private static final List<String> TOPIC_FIELDS =
            List.of("id", "topic", "audience", "audienceId", "created_at", "updated_at", "history");

    @RegisterExtension
    static final CourierExtension bare = CourierExtension.withDefaults();

    @RegisterExtension
    static final CourierExtension original = CourierExtension.with(Map.of("courier.api.envelope", "data"));

    /** The value inside {@code {"data": …}}, exactly as written, asserting nothing else is there. */
    private static String unwrap(HttpResponse<String> response) {
        String body = response.body();
        assertEquals(List.of("data"), List.copyOf(object(body).keySet()), body);
        assertTrue(body.startsWith("{\"data\":") && body.endsWith("}"), body);
        return body.substring("{\"data\":".length(), body.length() - 1);
    }

    @Test
    void byDefaultAnswersAreTheBareObjects() {
        String token = bare.token(TestServer.uniqueAudience());

        HttpResponse<String> audience = bare.post("/v1/audience", token, "");
        HttpResponse<String> topic = bare.post("/v1/topic", token, "{\"topic\":\"system/events\"}");
        HttpResponse<String> topics = bare.get("/v1/topic", token);
        HttpResponse<String> sign = bare.get("/v1/sign", token);

        assertStatus(201, audience);
        assertEquals(AUDIENCE_FIELDS, List.copyOf(object(audience.body()).keySet()));
        assertEquals(TOPIC_FIELDS, List.copyOf(object(topic.body()).keySet()));
        assertEquals(TOPIC_FIELDS, List.copyOf(array(topics.body()).get(0).keySet()));
        assertEquals(List.of("key", "url"), List.copyOf(object(sign.body()).keySet()));
    }

    @Test
    void dataEnvelopeWrapsEverySuccessfulRestAnswer() {
        String audience = TestServer.uniqueAudience();
        String token = original.token(audience);

        HttpResponse<String> created = original.post("/v1/audience", token, "");
        HttpResponse<String> again = original.post("/v1/audience", token, "");
        HttpResponse<String> topic = original.post("/v1/topic", token, "{\"topic\":\"system/events\"}");
        HttpResponse<String> topics = original.get("/v1/topic", token);
        HttpResponse<String> sign = original.get("/v1/sign", token);
        String hookBody = "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":{\"deploy\": \"done\"}}";
        HttpResponse<String> hook = original.post("/v1/hook", token, hookBody);

        assertStatus(201, created);
        assertStatus(200, again);
        ApiAssertions.assertJsonContentType(
                created.headers().firstValue("Content-Type").orElse(null), created.body());
        assertEquals(AUDIENCE_FIELDS, List.copyOf(object(unwrap(created)).keySet()));
        assertEquals(audience, JsonField.get(unwrap(again), "name"));
        assertStatus(201, topic);
        assertEquals(TOPIC_FIELDS, List.copyOf(object(unwrap(topic)).keySet()));
        assertEquals(TOPIC_FIELDS, List.copyOf(array(unwrap(topics)).get(0).keySet()));
        assertEquals(List.of("key", "url"), List.copyOf(object(unwrap(sign)).keySet()));
        assertStatus(200, hook);
        assertEquals(hookBody, unwrap(hook), "the hook's echo stays byte for byte, inside the envelope");

        // The key inside the envelope opens a socket as usual.
        String key = JsonField.get(unwrap(sign), "key");
        try (WsClient socket = WsClient.connect(original.http(), original.wsUrl(key))) {
            assertEquals("connected", JsonField.get(socket.next(), "action"));
        }
    }

    @Test
    void dataEnvelopeLeavesErrorsHealthAndFilesAlone() {
        String audience = TestServer.uniqueAudience();
        String token = original.token(audience);

        assertError(original.get("/v1/sign", token), 404, ErrorCode.EAUD_NOTFOUND);
        assertError(original.get("/v1/topic", "not-a-token"), 401, ErrorCode.ETOKEN_INVALID);
        original.post("/v1/audience", token, "");
        original.post("/v1/topic", token, "{\"topic\":\"dup\"}");
        assertError(original.post("/v1/topic", token, "{\"topic\":\"dup\"}"), 409, ErrorCode.ETOPIC_EXISTS);
        assertError(original.get("/v1/nope", token), 404, ErrorCode.ENOT_FOUND);

        assertEquals("{\"status\":\"ok\"}", original.get("/healthz", null).body());
        assertEquals("ready", JsonField.get(original.get("/readyz", null).body(), "status"));
        HttpResponse<String> js = original.get("/client/courier.js", null);
        assertStatus(200, js);
        assertTrue(js.body().contains("export class Courier"), "courier.js is served as it is");
    }
}
