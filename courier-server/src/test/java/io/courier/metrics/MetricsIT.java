package io.courier.metrics;

import static io.courier.testing.JsonField.get;
import static io.courier.testing.PrometheusText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /metrics} scraped after real traffic: counters move by exactly what happened. */
class MetricsIT {
    private static final String TOKEN = "scrape-secret-0123";

    @RegisterExtension
    static final CourierExtension server = CourierExtension.with(Map.of("courier.metrics.token", TOKEN));

    private static String scrape() {
        HttpResponse<String> r =
                server.send(HttpRequest.newBuilder(server.uri("/metrics")).GET(), TOKEN);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
        return r.body();
    }

    @Test
    void publishToThreeSubscribersCountsThreeDeliveries() {
        String token = server.setUp(TestServer.uniqueAudience(), "m");
        List<WsClient> subs = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                WsClient c = server.connect(token);
                c.send("{\"action\":\"subscribe\",\"topic\":\"m\",\"id\":1}");
                c.next();
                subs.add(c);
            }
            String before = scrape();
            try (WsClient pub = server.connect(token)) {
                pub.send("{\"action\":\"publish\",\"topic\":\"m\",\"message\":{},\"id\":2}");
                pub.next();
                pub.send("{\"action\":\"publish\",\"topic\":\"nope\",\"message\":{},\"id\":3}");
                assertEquals("ETOPIC_NOTFOUND", get(pub.next(), "code"));
            }
            // The client's close is on its way, not yet read: the broadcast below must not reach it.
            double open = value(before, "courier_connections");
            Await.until(() -> value(scrape(), "courier_connections") <= open, "the server saw the publisher close");
            subs.forEach(WsClient::next);
            assertEquals(
                    200,
                    server.post("/v1/hook", token, "{\"action\":\"broadcast\",\"message\":{}}")
                            .statusCode());
            subs.forEach(WsClient::next);
            String after = scrape();

            assertEquals(
                    3 + 3,
                    value(after, "courier_deliveries_total") - value(before, "courier_deliveries_total"),
                    "3 publish deliveries + 3 broadcast deliveries (the publisher had closed)");
            assertEquals(
                    1, delta(before, after, "courier_messages_published_total{kind=\"publish\",source=\"socket\"}"));
            assertEquals(
                    1, delta(before, after, "courier_messages_published_total{kind=\"broadcast\",source=\"hook\"}"));
            assertEquals(1, delta(before, after, "courier_messages_refused_total{code=\"ETOPIC_NOTFOUND\"}"));
            assertEquals(1, delta(before, after, "courier_connections_opened_total"));
            assertTrue(value(after, "courier_connections") >= 3);
            assertTrue(value(after, "courier_subscriptions") >= 3);
            assertTrue(after.contains("courier_fanout_seconds_bucket{le="), "fan-out histogram");
            assertTrue(delta(before, after, "courier_fanout_seconds_count") >= 2);
        } finally {
            subs.forEach(WsClient::close);
        }
    }

    private static double delta(String before, String after, String series) {
        return value(after, series) - value(before, series);
    }

    @Test
    void closesAndRefusalsAreCountedByReason() {
        String token = server.setUp(TestServer.uniqueAudience());
        String before = scrape();
        WsClient c = server.connect(token);
        c.sendBinary(new byte[] {1});
        assertEquals(1003, c.closeCode());
        c.close();
        server.get("/v1/topic", "not-a-token");
        try (WsWire raw = WsWire.connect(server.port(), Duration.ofSeconds(10))) {
            raw.upgrade("/ws?token=garbage");
        }
        Await.until(
                () -> delta(before, scrape(), "courier_connections_closed_total{reason=\"protocol_error\"}") == 1,
                "protocol error close counted");
        String after = scrape();
        assertEquals(1, delta(before, after, "courier_auth_failures_total{reason=\"malformed\"}"));
        assertEquals(1, delta(before, after, "courier_handshakes_refused_total{reason=\"bad_key\"}"));
        assertTrue(value(
                        after,
                        "courier_http_requests_seconds_count{code=\"ETOKEN_INVALID\",method=\"GET\",route=\"/v1/topic\",status=\"401\"}")
                >= 1);
    }

    @Test
    void runtimeAndPoolMetricsArePresent() {
        String scrape = scrape();
        for (String name : List.of(
                "jvm_memory_used_bytes",
                "jvm_gc_",
                "jvm_threads_live_threads",
                "process_cpu_usage",
                "process_files_open_files",
                "netty_allocator_memory_used",
                "hikaricp_connections",
                "courier_topics",
                "courier_audiences",
                "courier_fanout_queued_bytes")) {
            assertTrue(scrape.contains(name), name + " missing");
        }
        // Every metric explains itself; Micrometer's Netty allocator binder alone would leave it blank.
        List<String> blank = scrape.lines()
                .filter(l -> l.startsWith("# HELP ") && l.split(" ", 4).length < 4 || l.matches("# HELP \\S+\\s*"))
                .toList();
        assertEquals(List.of(), blank, "metrics without help text");
    }

    @Test
    void metricsNeedTheConfiguredToken() {
        assertEquals(
                401,
                server.send(HttpRequest.newBuilder(server.uri("/metrics")).GET(), null)
                        .statusCode());
        assertEquals(
                401,
                server.send(HttpRequest.newBuilder(server.uri("/metrics")).GET(), "wrong")
                        .statusCode());
    }

    @Test
    void openMetricsWhenAsked() {
        HttpResponse<String> r = server.send(
                HttpRequest.newBuilder(server.uri("/metrics"))
                        .header("Accept", "application/openmetrics-text; version=1.0.0")
                        .GET(),
                TOKEN);
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/openmetrics-text"));
        assertTrue(r.body().trim().endsWith("# EOF"));
    }

    @Test
    void metricsCanBeTurnedOff() {
        try (TestServer off = TestServer.start(Map.of("courier.metrics.enabled", "false"))) {
            assertEquals(404, off.get("/metrics", null).statusCode());
        }
    }
}
