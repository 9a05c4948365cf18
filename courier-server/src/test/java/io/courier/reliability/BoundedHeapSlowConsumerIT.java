package io.courier.reliability;

import static io.courier.testing.JsonField.get;
import static io.courier.testing.PrometheusText.sum;
import static io.courier.testing.PrometheusText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.config.ConfigLoader;
import io.courier.testing.Await;
import io.courier.testing.ServerProcess;
import io.courier.testing.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A publisher that outpaces some subscribers, on a server limited to a 256 MiB heap (ServerProcess
 * starts it with -Xmx256m): the stalled subscribers are cut off, the one that keeps up receives
 * everything in order, and the server neither runs out of memory nor stops serving.
 */
class BoundedHeapSlowConsumerIT {
    private static final String SECRET = "bounded-heap-test-secret-0123456789abcdef";
    private static final int STALLED = 5;
    private static final int MESSAGES = 1500;

    @Test
    void stalledSubscribersAreCutOffWithoutGrowingTheHeap(@TempDir Path dir) throws Exception {
        Map<String, String> env = Map.of("COURIER_DATA_DIR", dir.toString(), "COURIER_JWT_SECRET", SECRET);
        try (ServerProcess server = ServerProcess.start(env, dir.resolve("server.log"))) {
            var config = ConfigLoader.load(
                    Optional.empty(),
                    Map.of(),
                    Map.of("courier.jwt.secret", SECRET, "courier.data.dir", dir.toString()));
            String audience = "bounded-heap.example.com";
            String token = new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()))
                    .issue(audience, Optional.empty(), Duration.ofHours(1));
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            assertEquals(201, post(http, base + "/v1/audience", token, "").statusCode());
            assertEquals(
                    201,
                    post(http, base + "/v1/topic", token, "{\"topic\":\"firehose\"}")
                            .statusCode());

            List<WsClient> stalled = new ArrayList<>();
            try (WsClient fast = WsClient.connect(http, wsUrl(http, base, server.port(), token))) {
                fast.next();
                fast.send("{\"action\":\"subscribe\",\"topic\":\"firehose\",\"id\":1}");
                fast.next();
                for (int i = 0; i < STALLED; i++) {
                    WsClient c = WsClient.connect(http, wsUrl(http, base, server.port(), token), false);
                    c.send("{\"action\":\"subscribe\",\"topic\":\"firehose\"}");
                    stalled.add(c);
                }
                Await.until(() -> value(scrape(http, base), "courier_subscriptions") == 1 + STALLED, "all subscribed");

                String pad = "x".repeat(16 * 1024);
                for (int i = 0; i < MESSAGES; i++) { // 24 MB to each subscriber that keeps up
                    HttpResponse<String> r = post(
                            http,
                            base + "/v1/hook",
                            token,
                            "{\"action\":\"publish\",\"topic\":\"firehose\",\"message\":{\"i\":" + i + ",\"pad\":\""
                                    + pad + "\"}}");
                    assertEquals(200, r.statusCode(), r.body());
                    assertEquals(
                            String.valueOf(i),
                            get(fast.next(), "message.i"),
                            "the subscriber that keeps up gets every message in order");
                }
                // A cut-off subscriber never reads its close frame, so its socket goes when the close
                // grace ends: wait for that, not for the last publish.
                Await.until(
                        () -> value(scrape(http, base), "courier_connections_closed_total{reason=\"slow_consumer\"}")
                                == STALLED,
                        Duration.ofSeconds(30),
                        "every stalled subscriber was cut off");
                String metrics = scrape(http, base);
                assertEquals(
                        STALLED,
                        value(metrics, "courier_connections_closed_total{reason=\"slow_consumer\"}"),
                        "no other subscriber was cut off");
                assertEquals(1, value(metrics, "courier_connections"));
                double heapMax = 256.0 * 1024 * 1024;
                double heapUsed = sum(metrics, "jvm_memory_used_bytes\\{area=\"heap\"[^}]*\\}");
                assertTrue(heapUsed < heapMax, "heap used " + heapUsed + " within the 256 MiB limit");
                assertTrue(server.log().lines().noneMatch(l -> l.contains("OutOfMemoryError")), server.log());
            } finally {
                stalled.forEach(WsClient::close);
            }
        }
    }

    private static String wsUrl(HttpClient http, String base, int port, String token) throws Exception {
        HttpResponse<String> sign = http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/sign"))
                        .header("Authorization", "Bearer " + token)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, sign.statusCode(), sign.body());
        return "ws://127.0.0.1:" + port + "/ws?token=" + get(sign.body(), "key");
    }

    private static HttpResponse<String> post(HttpClient http, String url, String token, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String scrape(HttpClient http, String base) {
        try {
            return http.send(
                            HttpRequest.newBuilder(URI.create(base + "/metrics"))
                                    .timeout(Duration.ofSeconds(10))
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
