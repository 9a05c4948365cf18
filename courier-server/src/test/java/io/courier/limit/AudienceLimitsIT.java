package io.courier.limit;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.HttpWire;
import io.courier.testing.PrometheusText;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Per-audience limits over real sockets: the cap on open WebSockets and the hook's rate limit each
 * refuse one tenant with 429 {@code ERATE_LIMITED} while another goes on unhindered. Exact token
 * counts are asserted in {@link AudienceRateLimitTest} with a clock of its own; here only what holds
 * at any speed: a client calling back to back is refused, a full bucket is not.
 */
class AudienceLimitsIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String BROADCAST = "{\"action\":\"broadcast\",\"message\":{}}";

    private final List<WsClient> open = new ArrayList<>();

    @AfterEach
    void closeOpen() {
        open.forEach(WsClient::close);
    }

    @Test
    void audienceAtItsSocketCapIsRefused429WhileAnotherConnects() {
        try (TestServer server = TestServer.start(Map.of("courier.audience.max.connections", "2"))) {
            String capped = server.setUp(TestServer.uniqueAudience());
            String other = server.setUp(TestServer.uniqueAudience());
            open.add(server.connect(capped));
            WsClient second = server.connect(capped);
            open.add(second);

            HttpWire.Response refused = upgradeOverWire(server, capped);
            assertEquals(429, refused.status(), refused.toString());
            assertEquals("ERATE_LIMITED", get(refused.body(), "error.code"));
            assertTrue(refused.header("Upgrade").isEmpty(), "no upgrade");

            open.add(server.connect(other));
            open.add(server.connect(other));

            second.close();
            Await.until(
                    () -> tryConnect(server, capped),
                    WAIT,
                    "the capped audience connects again once one socket closed");
            assertEquals(429, upgradeOverWire(server, capped).status(), "and is at its cap again");
        }
    }

    @Test
    void audienceOverItsHookRateIsRefused429WhileAnotherIsServed() throws Exception {
        int perSecond = 5;
        try (TestServer server =
                TestServer.start(Map.of("courier.hook.rate.limit.per.second", Integer.toString(perSecond)))) {
            String flooding = server.setUp(TestServer.uniqueAudience());
            String calm = server.setUp(TestServer.uniqueAudience());
            AtomicInteger limited = new AtomicInteger();
            AtomicInteger otherFailures = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 2_000 && !stop.get(); i++) {
                    HttpResponse<String> r = server.post("/v1/hook", flooding, BROADCAST);
                    if (r.statusCode() == 429 && "ERATE_LIMITED".equals(get(r.body(), "error.code"))) {
                        limited.incrementAndGet();
                    } else if (r.statusCode() != 200) {
                        otherFailures.incrementAndGet();
                    }
                }
            });
            try {
                Await.until(() -> limited.get() > 0 || flood.isDone(), WAIT, "the flooding audience is refused");
                assertTrue(limited.get() > 0, "calls back to back outrun " + perSecond + "/s");
                // While the flood goes on, the other audience's bucket is full: a second's worth passes.
                for (int i = 0; i < perSecond; i++) {
                    HttpResponse<String> r = server.post("/v1/hook", calm, BROADCAST);
                    assertEquals(200, r.statusCode(), "the other audience's call " + i + ": " + r.body());
                }
            } finally {
                stop.set(true);
                flood.get(30, TimeUnit.SECONDS);
            }
            assertEquals(0, otherFailures.get(), "the flood gets 200 or 429, nothing else");
            assertEquals(
                    limited.get(),
                    PrometheusText.value(
                            server.server().metrics().registry().scrape(),
                            "courier_messages_refused_total{code=\"ERATE_LIMITED\"}"),
                    "every refusal is counted");
        }
    }

    private static HttpWire.Response upgradeOverWire(TestServer server, String token) {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send(
                    "GET /ws?token=" + server.sign(token) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            return wire.read();
        }
    }

    private boolean tryConnect(TestServer server, String token) {
        try {
            open.add(server.connect(token));
            return true;
        } catch (CompletionException e) {
            return false; // refused with 429: the slot is not free yet
        }
    }
}
