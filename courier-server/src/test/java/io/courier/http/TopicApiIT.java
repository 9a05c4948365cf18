package io.courier.http;

import static io.courier.http.ApiAssertions.array;
import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static io.courier.http.ApiAssertions.assertTimestamp;
import static io.courier.http.ApiAssertions.assertUuid;
import static io.courier.http.ApiAssertions.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code POST /v1/topic} and {@code GET /v1/topic} over real HTTP, scoped to the token's audience. */
class TopicApiIT {
    private static final Set<String> TOPIC_FIELDS =
            Set.of("id", "topic", "audience", "audienceId", "created_at", "updated_at", "history");

    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @Test
    void createdTopicHasExactlyTheDocumentedFields() {
        String audience = TestServer.uniqueAudience();
        String token = server.token(audience);
        HttpResponse<String> aud = server.post("/v1/audience", token, "");
        assertStatus(201, aud);
        String audienceId = object(aud.body()).get("id");

        HttpResponse<String> created = server.post("/v1/topic", token, topicBody("news"));

        assertStatus(201, created);
        ApiAssertions.assertJsonContentType(
                created.headers().firstValue("Content-Type").orElse(null), created.body());
        Map<String, String> topic = object(created.body());
        assertEquals(TOPIC_FIELDS, topic.keySet());
        assertUuid(topic.get("id"));
        assertNotEquals(audienceId, topic.get("id"));
        assertEquals("news", topic.get("topic"));
        assertEquals(audience, topic.get("audience"));
        assertEquals(audienceId, topic.get("audienceId"));
        assertFalse(assertTimestamp(topic.get("updated_at")).isBefore(assertTimestamp(topic.get("created_at"))));
    }

    @Test
    void listedTopicIsTheRecordCreateReturned() {
        String token = server.setUp(TestServer.uniqueAudience());
        HttpResponse<String> created = server.post("/v1/topic", token, topicBody("orders"));
        assertStatus(201, created);

        HttpResponse<String> list = server.get("/v1/topic", token);

        assertStatus(200, list);
        ApiAssertions.assertJsonContentType(
                list.headers().firstValue("Content-Type").orElse(null), list.body());
        assertEquals(List.of(object(created.body())), array(list.body()));
    }

    @Test
    void topicBeforeAudienceIsAudienceNotFound() {
        String token = server.token(TestServer.uniqueAudience());

        assertError(server.post("/v1/topic", token, topicBody("news")), 404, ErrorCode.EAUD_NOTFOUND);
        assertError(server.get("/v1/topic", token), 404, ErrorCode.EAUD_NOTFOUND);
    }

    @Test
    void duplicateTopicIsConflict() {
        String token = server.setUp(TestServer.uniqueAudience(), "news");

        assertError(server.post("/v1/topic", token, topicBody("news")), 409, ErrorCode.ETOPIC_EXISTS);
        assertEquals(1, array(server.get("/v1/topic", token).body()).size());
    }

    @Test
    void topicNamesDifferingOnlyInCaseAreDistinct() {
        String token = server.setUp(TestServer.uniqueAudience(), "news");

        assertStatus(201, server.post("/v1/topic", token, topicBody("News")));
    }

    static Stream<Arguments> invalidTopicBodies() {
        return Stream.of(
                Arguments.of("empty", "{\"topic\":\"\"}"),
                Arguments.of("256 characters", topicBody("t".repeat(256))),
                Arguments.of("space", "{\"topic\":\"a b\"}"),
                Arguments.of("leading space", "{\"topic\":\" news\"}"),
                Arguments.of("tab", "{\"topic\":\"a\\tb\"}"),
                Arguments.of("newline", "{\"topic\":\"a\\nb\"}"),
                Arguments.of("control character U+0001", "{\"topic\":\"a\\u0001b\"}"),
                Arguments.of("DEL", "{\"topic\":\"a\\u007fb\"}"),
                Arguments.of("no-break space", "{\"topic\":\"a\\u00a0b\"}"),
                Arguments.of("zero-width space", "{\"topic\":\"a\\u200bb\"}"),
                Arguments.of("lone surrogate", "{\"topic\":\"a\\ud800b\"}"),
                Arguments.of("missing field", "{}"),
                Arguments.of("other field only", "{\"name\":\"news\"}"),
                Arguments.of("number", "{\"topic\":42}"),
                Arguments.of("null", "{\"topic\":null}"),
                Arguments.of("boolean", "{\"topic\":true}"),
                Arguments.of("array", "{\"topic\":[\"news\"]}"),
                Arguments.of("object", "{\"topic\":{\"name\":\"news\"}}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidTopicBodies")
    void invalidTopicIsUnprocessable(String why, String body) {
        String token = server.setUp(TestServer.uniqueAudience());

        assertError(server.post("/v1/topic", token, body), 422, ErrorCode.ETOPIC_INVALID);
        assertEquals(List.of(), array(server.get("/v1/topic", token).body()), "nothing was created for: " + why);
    }

    @Test
    void topicOf255CharactersIsAcceptedAndListedIntact() {
        String token = server.setUp(TestServer.uniqueAudience());
        String name = "t".repeat(255);

        HttpResponse<String> created = server.post("/v1/topic", token, topicBody(name));

        assertStatus(201, created);
        assertEquals(name, object(created.body()).get("topic"));
        assertEquals(name, array(server.get("/v1/topic", token).body()).get(0).get("topic"));
    }

    @Test
    void nonAsciiTopicRoundTrips() {
        String token = server.setUp(TestServer.uniqueAudience());
        String name = "café/приказы/注文/📦";

        HttpResponse<String> created = server.post("/v1/topic", token, topicBody(name));

        assertStatus(201, created);
        assertEquals(name, object(created.body()).get("topic"));
        assertEquals(name, array(server.get("/v1/topic", token).body()).get(0).get("topic"));
    }

    @Test
    void topicOf255AstralCodePointsIsAccepted() {
        // The limit counts characters (code points), as the API documents; U+1F4E6 is two UTF-16 units.
        String token = server.setUp(TestServer.uniqueAudience());
        String name = "📦".repeat(255);

        HttpResponse<String> created = server.post("/v1/topic", token, topicBody(name));

        assertStatus(201, created);
        assertEquals(name, array(server.get("/v1/topic", token).body()).get(0).get("topic"));
    }

    @Test
    void astralCharacterWhoseLowHalfLooksLikeASurrogateIsAccepted() {
        // U+1D800 (SignWriting) is an ordinary symbol; only its low 16 bits, 0xD800, look like a surrogate.
        String token = server.setUp(TestServer.uniqueAudience());
        String name = "sign-" + new String(Character.toChars(0x1D800));

        HttpResponse<String> created = server.post("/v1/topic", token, topicBody(name));

        assertStatus(201, created);
        assertEquals(name, object(created.body()).get("topic"));
    }

    @Test
    void newAudienceListsNoTopics() {
        HttpResponse<String> list = server.get("/v1/topic", server.setUp(TestServer.uniqueAudience()));

        assertStatus(200, list);
        assertEquals(List.of(), array(list.body()));
    }

    @Test
    void listIsOldestFirstWithExactCount() {
        // Deliberately not alphabetical, so name order cannot pass for creation order.
        List<String> names = List.of("zeta", "alpha", "mike", "bravo", "yankee", "charlie", "x-ray");
        String token = server.setUp(TestServer.uniqueAudience(), names.toArray(String[]::new));

        HttpResponse<String> list = server.get("/v1/topic", token);

        assertStatus(200, list);
        List<Map<String, String>> topics = array(list.body());
        assertEquals(names, topics.stream().map(t -> t.get("topic")).toList());
        for (int i = 1; i < topics.size(); i++) {
            assertFalse(
                    assertTimestamp(topics.get(i).get("created_at"))
                            .isBefore(assertTimestamp(topics.get(i - 1).get("created_at"))),
                    "created_at out of order at " + i + ": " + list.body());
        }
        assertEquals(
                names.size(), topics.stream().map(t -> t.get("id")).distinct().count(), "ids are unique");
    }

    @Test
    void sameTopicNameInTwoAudiencesIsIndependent() {
        String a = TestServer.uniqueAudience();
        String b = TestServer.uniqueAudience();
        String tokenA = server.setUp(a);
        String tokenB = server.setUp(b);

        HttpResponse<String> inA = server.post("/v1/topic", tokenA, topicBody("news"));
        HttpResponse<String> inB = server.post("/v1/topic", tokenB, topicBody("news"));

        assertStatus(201, inA);
        assertStatus(201, inB);
        assertNotEquals(object(inA.body()).get("id"), object(inB.body()).get("id"));
        assertNotEquals(object(inA.body()).get("audienceId"), object(inB.body()).get("audienceId"));
        assertEquals(
                List.of(object(inA.body())),
                array(server.get("/v1/topic", tokenA).body()));
        assertEquals(
                List.of(object(inB.body())),
                array(server.get("/v1/topic", tokenB).body()));
    }

    @Test
    void audienceNeverSeesAnotherAudiencesTopics() {
        String a = TestServer.uniqueAudience();
        String b = TestServer.uniqueAudience();
        String tokenA = server.setUp(a, "a-only-1", "a-only-2");
        String tokenB = server.setUp(b, "b-only");

        List<Map<String, String>> seenByA =
                array(server.get("/v1/topic", tokenA).body());
        List<Map<String, String>> seenByB =
                array(server.get("/v1/topic", tokenB).body());

        assertEquals(
                List.of("a-only-1", "a-only-2"),
                seenByA.stream().map(t -> t.get("topic")).toList());
        assertEquals(
                List.of("b-only"), seenByB.stream().map(t -> t.get("topic")).toList());
        seenByA.forEach(t -> assertEquals(a, t.get("audience")));
        seenByB.forEach(t -> assertEquals(b, t.get("audience")));
        // B may take a name A already has: uniqueness is per audience.
        assertStatus(201, server.post("/v1/topic", tokenB, topicBody("a-only-1")));
        assertEquals(2, array(server.get("/v1/topic", tokenA).body()).size());
    }

    @Test
    void concurrentCreatesOfOneTopicYieldOneCreatedAndTheRestConflict() throws Exception {
        String token = server.setUp(TestServer.uniqueAudience());
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            HttpRequest request = HttpRequest.newBuilder(server.uri("/v1/topic"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(topicBody("contended")))
                    .build();
            calls.add(server.http().sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        int created = 0;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.join();
            if (response.statusCode() == 201) {
                created++;
            } else {
                assertError(response, 409, ErrorCode.ETOPIC_EXISTS);
            }
        }
        assertEquals(1, created, "exactly one request creates the topic");
        assertEquals(1, array(server.get("/v1/topic", token).body()).size());
    }

    /** {@code {"topic":"<name>"}} with the name JSON-escaped. */
    static String topicBody(String name) {
        StringBuilder json = new StringBuilder("{\"topic\":\"");
        for (char c : name.toCharArray()) {
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        return json.append("\"}").toString();
    }
}
