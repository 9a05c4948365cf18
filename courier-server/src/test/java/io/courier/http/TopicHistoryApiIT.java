package io.courier.http;

import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** History settings chosen at topic creation, within the server's maxima, shown by {@code GET /v1/topic}. */
class TopicHistoryApiIT {
    @RegisterExtension
    static final CourierExtension server = CourierExtension.with(Map.of(
            "courier.history.max.size", "500",
            "courier.history.max.ttl.seconds", "3600",
            "courier.history.ttl.seconds", "120"));

    @Test
    void createdTopicKeepsTheHistoryItAskedFor() {
        String token = server.setUp(TestServer.uniqueAudience());
        HttpResponse<String> created =
                server.post("/v1/topic", token, "{\"topic\":\"system/events\",\"history\":{\"size\":100,\"ttl\":300}}");
        assertStatus(201, created);
        assertEquals("100", get(created.body(), "history.size"));
        assertEquals("300", get(created.body(), "history.ttl"));

        String list = server.get("/v1/topic", token).body();
        assertEquals("[" + created.body() + "]", list);
    }

    @Test
    void topicWithoutHistoryShowsSizeZero() {
        String token = server.setUp(TestServer.uniqueAudience());
        HttpResponse<String> created = server.post("/v1/topic", token, "{\"topic\":\"plain\"}");
        assertStatus(201, created);
        assertEquals("0", get(created.body(), "history.size"));
        assertEquals("0", get(created.body(), "history.ttl"));
        HttpResponse<String> nul = server.post("/v1/topic", token, "{\"topic\":\"nul\",\"history\":null}");
        assertEquals("0", get(nul.body(), "history.size"));
    }

    @Test
    void omittedTtlTakesTheServerDefaultAndTheMaximaAreAccepted() {
        String token = server.setUp(TestServer.uniqueAudience());
        HttpResponse<String> created = server.post("/v1/topic", token, "{\"topic\":\"a\",\"history\":{\"size\":5}}");
        assertStatus(201, created);
        assertEquals("120", get(created.body(), "history.ttl"));
        HttpResponse<String> max =
                server.post("/v1/topic", token, "{\"history\":{\"size\":500,\"ttl\":3600},\"topic\":\"b\"}");
        assertStatus(201, max);
        assertEquals("500", get(max.body(), "history.size"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"size\":501}",
                "{\"size\":10,\"ttl\":3601}",
                "{\"size\":-1}",
                "{\"size\":10,\"ttl\":0}",
                "{\"size\":10,\"ttl\":-1}",
                "{\"size\":\"10\"}",
                "{\"size\":1.5}",
                "{\"size\":99999999999999999999}",
                "{\"size\":10,\"max\":1}",
                "[100]",
                "100",
                "true"
            })
    void settingsPastTheMaximaOrMalformedAreRefused(String history) {
        String token = server.setUp(TestServer.uniqueAudience());
        assertError(
                server.post("/v1/topic", token, "{\"topic\":\"t\",\"history\":" + history + "}"),
                422,
                ErrorCode.EHISTORY_INVALID);
        assertEquals("[]", server.get("/v1/topic", token).body(), "nothing was created");
    }

    @Test
    void serverDefaultSizeAppliesToTopicsCreatedWithoutHistory() {
        try (TestServer withDefault =
                TestServer.start(Map.of("courier.history.size", "50", "courier.history.ttl.seconds", "60"))) {
            String token = withDefault.setUp(TestServer.uniqueAudience());
            HttpResponse<String> created = withDefault.post("/v1/topic", token, "{\"topic\":\"t\"}");
            assertEquals("50", get(created.body(), "history.size"));
            assertEquals("60", get(created.body(), "history.ttl"));
            HttpResponse<String> none =
                    withDefault.post("/v1/topic", token, "{\"topic\":\"u\",\"history\":{\"size\":0}}");
            assertEquals("0", get(none.body(), "history.size"), "a topic may opt out of the default");
        }
    }
}
