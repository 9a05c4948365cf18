package io.courier.http;

import static io.courier.http.ApiAssertions.array;
import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static io.courier.http.ApiAssertions.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.ErrorCode;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** What survives a restart, and how the API answers while its database is out of reach. */
class PersistenceIT {
    /** Generous bound for "about the 500 ms database timeout": slow CI machines, JIT warm-up, connect retries. */
    private static final Duration FAST = Duration.ofSeconds(5);

    @Test
    void audiencesAndTopicsSurviveARestart() {
        String audience = TestServer.uniqueAudience();
        TestServer server = TestServer.start();
        try {
            String token = server.setUp(audience, "orders", "alerts", "billing");
            String audienceBefore = server.post("/v1/audience", token, "").body();
            String topicsBefore = server.get("/v1/topic", token).body();

            server = server.restart();

            HttpResponse<String> audienceAfter = server.post("/v1/audience", token, "");
            HttpResponse<String> topicsAfter = server.get("/v1/topic", token);
            assertStatus(200, audienceAfter);
            assertEquals(object(audienceBefore), object(audienceAfter.body()));
            assertStatus(200, topicsAfter);
            assertEquals(array(topicsBefore), array(topicsAfter.body()));
            assertEquals(
                    List.of("orders", "alerts", "billing"),
                    array(topicsAfter.body()).stream().map(t -> t.get("topic")).toList());
        } finally {
            server.close();
        }
    }

    @Test
    void uniquenessSurvivesARestart() {
        String audience = TestServer.uniqueAudience();
        TestServer server = TestServer.start();
        try {
            String token = server.setUp(audience, "orders");

            server = server.restart();

            assertError(server.post("/v1/topic", token, "{\"topic\":\"orders\"}"), 409, ErrorCode.ETOPIC_EXISTS);
            assertStatus(201, server.post("/v1/topic", token, "{\"topic\":\"after-restart\"}"));
            assertEquals(2, array(server.get("/v1/topic", token).body()).size());
        } finally {
            server.close();
        }
    }

    @Test
    void tokensIssuedBeforeARestartStillWork() {
        // The HMAC secret is configured, and connection keys come from the data directory: neither changes.
        String audience = TestServer.uniqueAudience();
        TestServer server = TestServer.start();
        try {
            String token = server.setUp(audience);

            server = server.restart();

            assertStatus(200, server.get("/v1/topic", token));
            assertStatus(200, server.get("/v1/sign", token));
        } finally {
            server.close();
        }
    }

    @Test
    void unreachableDatabaseMakesReadyzAndTheApiUnavailableButNotHealthz() {
        // Port 1 refuses connections: a PostgreSQL that is down. The server must start anyway.
        Map<String, String> settings = Map.of(
                "courier.database.url", "jdbc:postgresql://127.0.0.1:1/nothing",
                "courier.database.timeout.ms", "500");
        try (TestServer server = within(Duration.ofSeconds(10), "startup", () -> TestServer.start(settings))) {
            String token = server.token(TestServer.uniqueAudience());

            HttpResponse<String> health = within(FAST, "GET /healthz", () -> server.get("/healthz", null));
            HttpResponse<String> ready = within(FAST, "GET /readyz", () -> server.get("/readyz", null));
            HttpResponse<String> audience =
                    within(FAST, "POST /v1/audience", () -> server.post("/v1/audience", token, ""));
            HttpResponse<String> topic =
                    within(FAST, "POST /v1/topic", () -> server.post("/v1/topic", token, "{\"topic\":\"news\"}"));
            HttpResponse<String> list = within(FAST, "GET /v1/topic", () -> server.get("/v1/topic", token));
            HttpResponse<String> sign = within(FAST, "GET /v1/sign", () -> server.get("/v1/sign", token));

            assertStatus(200, health);
            assertEquals("ok", JsonField.get(health.body(), "status"));
            assertStatus(503, ready);
            assertEquals("down", JsonField.get(ready.body(), "database"));
            assertError(audience, 503, ErrorCode.EDB_UNAVAILABLE);
            assertError(topic, 503, ErrorCode.EDB_UNAVAILABLE);
            assertError(list, 503, ErrorCode.EDB_UNAVAILABLE);
            assertError(sign, 503, ErrorCode.EDB_UNAVAILABLE);
            // Authentication needs no database: a bad token is still 401, not 503.
            assertError(server.get("/v1/topic", "not-a-token"), 401, ErrorCode.ETOKEN_INVALID);
            assertTrue(
                    !audience.body().contains("127.0.0.1:1"),
                    "the error leaks the database address: " + audience.body());
        }
    }

    private static <T> T within(Duration limit, String what, Supplier<T> call) {
        long start = System.nanoTime();
        T result = call.get();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(limit) < 0, what + " took " + took + " (expected: under " + limit + ")");
        return result;
    }
}
