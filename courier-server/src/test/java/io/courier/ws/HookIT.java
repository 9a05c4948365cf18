package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code POST /v1/hook}: backends publish exactly as a socket client would. */
class HookIT {
    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @Test
    void hookPublishReachesSocketSubscribers() {
        String token = server.setUp(TestServer.uniqueAudience(), "system/events");
        try (WsClient sub = server.connect(token);
                WsClient other = server.connect(token)) {
            sub.send("{\"action\":\"subscribe\",\"topic\":\"system/events\",\"id\":1}");
            sub.next();
            String body = "{\"topic\":\"system/events\",\"action\":\"publish\",\"message\":{\"kind\": \"deploy\" }}";
            HttpResponse<String> r = server.post("/v1/hook", token, body);
            assertEquals(200, r.statusCode());
            assertEquals(body, r.body(), "the hook answers with the request object");
            assertEquals(
                    "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":{\"kind\": \"deploy\" }}",
                    sub.next());
            assertNull(other.poll(Duration.ofMillis(300)), "only subscribers of the topic");
        }
    }

    @Test
    void hookBroadcastReachesEveryConnection() {
        String token = server.setUp(TestServer.uniqueAudience());
        String otherToken = server.setUp(TestServer.uniqueAudience());
        try (WsClient a = server.connect(token);
                WsClient b = server.connect(token);
                WsClient stranger = server.connect(otherToken)) {
            HttpResponse<String> r = server.post("/v1/hook", token, "{\"action\":\"broadcast\",\"message\":{\"n\":1}}");
            assertEquals(200, r.statusCode());
            assertEquals("{\"action\":\"broadcast\",\"message\":{\"n\":1}}", a.next());
            assertEquals("{\"action\":\"broadcast\",\"message\":{\"n\":1}}", b.next());
            assertNull(stranger.poll(Duration.ofMillis(300)));
        }
    }

    @ParameterizedTest(name = "{0} -> {1} {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"action\":\"publish\",\"topic\":\"missing\",\"message\":{}}    | 404 | ETOPIC_NOTFOUND",
                "{\"action\":\"publish\",\"topic\":\"t\",\"message\":\"x\"}        | 422 | EMESSAGE_INVALID",
                "{\"action\":\"publish\",\"topic\":\"t\"}                          | 422 | EMESSAGE_INVALID",
                "{\"action\":\"broadcast\"}                                        | 422 | EMESSAGE_INVALID",
                "{\"action\":\"subscribe\",\"topic\":\"t\"}                        | 422 | EACTION_INVALID",
                "{\"action\":\"shout\",\"message\":{}}                             | 422 | EACTION_INVALID",
                "{\"action\":\"publish\",\"topic\":\"a b\",\"message\":{}}         | 422 | ETOPIC_INVALID",
                "{\"action\":\"publish\",\"message\":{}}                           | 422 | ETOPIC_INVALID",
                "{\"action\":                                                      | 400 | EBODY_INVALID",
                "[]                                                                | 400 | EBODY_INVALID",
            })
    void badHookIsRefused(String body, int status, String code) {
        String token = server.setUp(TestServer.uniqueAudience(), "t");
        HttpResponse<String> r = server.post("/v1/hook", token, body.trim());
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, get(r.body(), "error.code"));
    }

    @Test
    void hookNeedsBearerToken() {
        HttpResponse<String> r = server.post("/v1/hook", null, "{\"action\":\"broadcast\",\"message\":{}}");
        assertEquals(401, r.statusCode());
        assertEquals("ETOKEN_INVALID", get(r.body(), "error.code"));
    }
}
