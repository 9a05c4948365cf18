package io.courier.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import io.courier.testing.JsonField;
import io.courier.testing.JsonList;
import io.courier.testing.ServerProcess;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} right after audiences and topics were created: a 201 is a promise, so after a
 * restart on the same data everything acknowledged is there, with the same ids, and usable at once.
 * The server runs as a separate JVM (as operators run it) so it can die without a shutdown hook.
 * Embedded H2 always; PostgreSQL when {@code COURIER_TEST_DATABASE_URL} is set.
 */
class CrashSafetyIT {
    /** Kill cycles per database in the default suite; each costs a JVM start (about 2-3 s). */
    private static final int KILLS = 1;
    /** Kill cycles in the long variant (-Dcourier.long=true). */
    private static final int LONG_KILLS = 6;

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    @Test
    void acknowledgedAudiencesAndTopicsSurviveKill9OnH2() {
        killAndRestart(Map.of(), KILLS);
    }

    @Test
    void acknowledgedAudiencesAndTopicsSurviveKill9OnPostgres() {
        postgres(KILLS);
    }

    // Long variants: more kill cycles, each a JVM start; about 20 s per database, so not in the default suite.
    @Test
    @EnabledIfSystemProperty(named = "courier.long", matches = "true")
    void acknowledgedAudiencesAndTopicsSurviveRepeatedKill9OnH2() {
        killAndRestart(Map.of(), LONG_KILLS);
    }

    @Test
    @EnabledIfSystemProperty(named = "courier.long", matches = "true")
    void acknowledgedAudiencesAndTopicsSurviveRepeatedKill9OnPostgres() {
        postgres(LONG_KILLS);
    }

    private void postgres(int kills) {
        assumeTrue(TestPostgres.url().isPresent(), TestPostgres::skipReason);
        String namespace = TestPostgres.freshNamespace("courier_rel_");
        try {
            killAndRestart(
                    Map.of("COURIER_DATABASE_URL", TestPostgres.url().get(), "COURIER_DATABASE_NAMESPACE", namespace),
                    kills);
        } finally {
            TestPostgres.drop(namespace);
        }
    }

    /** Audience name → (topic name → topic id), and audience name → audience id: what was acknowledged. */
    private final Map<String, Map<String, String>> topics = new LinkedHashMap<>();

    private final Map<String, String> audienceIds = new LinkedHashMap<>();

    private void killAndRestart(Map<String, String> database, int kills) {
        Map<String, String> env = new HashMap<>(database);
        env.put("COURIER_DATA_DIR", dir.resolve("data").toString());
        env.put("COURIER_JWT_SECRET", TestServer.SECRET);
        env.put("COURIER_SHUTDOWN_TIMEOUT_SECONDS", "2");
        TokenIssuer issuer = issuer();
        for (int cycle = 0; cycle <= kills; cycle++) {
            try (ServerProcess server = ServerProcess.start(env, dir.resolve("server-" + cycle + ".log"))) {
                String where = "after " + cycle + " kill(s), " + server;
                assertEverythingThere(server, issuer, where);
                if (cycle == kills) {
                    server.stop();
                    break;
                }
                createMore(server, issuer, cycle);
                // No pause: the last 201 has just arrived. SIGKILL skips shutdown hooks and any flush.
                server.kill();
                assertEquals(137, server.exitValue(), "exit status of a SIGKILLed JVM (128 + 9)");
            }
        }
    }

    /** Two new audiences with three topics each, and one more topic in every older audience. */
    private void createMore(ServerProcess server, TokenIssuer issuer, int cycle) {
        for (String audience : List.copyOf(topics.keySet())) {
            createTopic(server, issuer, audience, "late/" + cycle);
        }
        for (int a = 0; a < 2; a++) {
            String audience = TestServer.uniqueAudience();
            HttpResponse<String> created =
                    post(server, "/v1/audience", issuer.issue(audience, Optional.of("crash"), Duration.ofHours(1)), "");
            assertEquals(201, created.statusCode(), created.body());
            audienceIds.put(audience, JsonField.get(created.body(), "id"));
            topics.put(audience, new LinkedHashMap<>());
            for (String topic : List.of("orders", "system/events", "c" + cycle + "/" + a)) {
                createTopic(server, issuer, audience, topic);
            }
        }
    }

    private void createTopic(ServerProcess server, TokenIssuer issuer, String audience, String topic) {
        HttpResponse<String> r = post(
                server,
                "/v1/topic",
                issuer.issue(audience, Optional.of("crash"), Duration.ofHours(1)),
                "{\"topic\":\"" + topic + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        topics.get(audience).put(topic, JsonField.get(r.body(), "id"));
    }

    private void assertEverythingThere(ServerProcess server, TokenIssuer issuer, String where) {
        int expectedTopics = topics.values().stream().mapToInt(Map::size).sum();
        for (Map.Entry<String, Map<String, String>> e : topics.entrySet()) {
            String audience = e.getKey();
            String token = issuer.issue(audience, Optional.of("crash"), Duration.ofHours(1));
            HttpResponse<String> again = post(server, "/v1/audience", token, "");
            assertEquals(
                    200,
                    again.statusCode(),
                    where + ": audience " + audience + " exists, so POST /v1/audience is 200: " + again.body() + "\n"
                            + server.log());
            assertEquals(audienceIds.get(audience), JsonField.get(again.body(), "id"), where + ": same audience id");

            HttpResponse<String> list = get(server, "/v1/topic", token);
            assertEquals(200, list.statusCode(), where + ": " + list.body());
            Map<String, String> listed = JsonList.objects(list.body()).stream()
                    .collect(Collectors.toMap(
                            t -> t.get("topic"), t -> t.get("id"), (x, y) -> x + "," + y, LinkedHashMap::new));
            assertEquals(e.getValue(), listed, where + ": topics of " + audience + " (name → id), in creation order");
            assertEquals(
                    new ArrayList<>(e.getValue().keySet()), new ArrayList<>(listed.keySet()), where + ": oldest first");

            // The restarted server knows the topics in memory too: publishing needs no database.
            for (String topic : e.getValue().keySet()) {
                HttpResponse<String> hook = post(
                        server,
                        "/v1/hook",
                        token,
                        "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{}}");
                assertEquals(200, hook.statusCode(), where + ": hook publish to " + topic + ": " + hook.body());
            }
        }
        if (expectedTopics > 0) {
            assertTrue(
                    server.log().contains("loaded " + expectedTopics + " topics of " + topics.size() + " audiences"),
                    where + ": the startup log reports the reloaded catalogue:\n" + server.log());
        }
    }

    private TokenIssuer issuer() {
        Config config = ConfigLoader.load(
                Optional.empty(),
                Map.of(),
                Map.of(
                        "courier.jwt.secret",
                        TestServer.SECRET,
                        "courier.data.dir",
                        dir.resolve("data").toString()));
        return new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()));
    }

    private static HttpResponse<String> post(ServerProcess server, String path, String token, String body) {
        return send(
                HttpRequest.newBuilder(uri(server, path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)),
                token);
    }

    private static HttpResponse<String> get(ServerProcess server, String path, String token) {
        return send(HttpRequest.newBuilder(uri(server, path)).GET(), token);
    }

    private static URI uri(ServerProcess server, String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request, String token) {
        try {
            return HTTP.send(
                    request.header("Authorization", "Bearer " + token)
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
