package io.courier.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Graceful stop: every socket is told 1001 and the port stops accepting; with a drain grace
 * {@code /readyz} answers 503 first while sockets are still served, and with a close window the
 * 1001s are spread over it.
 */
class ShutdownIT {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void stoppingClosesEverySocketWith1001() {
        TestServer server = TestServer.start();
        String token = server.setUp(TestServer.uniqueAudience(), "t");
        List<WsClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                WsClient c = server.connect(token);
                c.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}");
                c.next();
                clients.add(c);
            }
            int port = server.port();
            server.close();
            for (WsClient c : clients) {
                assertEquals(1001, c.closeCode(), "each client is told the server is going away");
            }
            assertThrows(
                    UncheckedIOException.class,
                    () -> WsWire.connect(port, Duration.ofSeconds(10)),
                    "the port no longer accepts");
        } finally {
            clients.forEach(WsClient::close);
        }
    }

    @Test
    void drainingAnswersReadyz503WhileEverySocketStillReceivesPublishes() throws InterruptedException {
        // A grace far longer than the few requests below, so the test never races its end.
        TestServer server = TestServer.start(
                Map.of("courier.shutdown.drain.grace.seconds", "8", "courier.shutdown.timeout.seconds", "12"));
        Thread closing = new Thread(server::close, "test-close");
        try {
            String token = server.setUp(TestServer.uniqueAudience(), "t");
            try (WsClient sub = server.connect(token)) {
                sub.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}");
                sub.next();
                assertEquals(200, server.get("/readyz", null).statusCode());

                closing.start();
                Await.until(() -> server.get("/readyz", null).statusCode() == 503, WAIT, "/readyz turns 503 on close");
                HttpResponse<String> ready = server.get("/readyz", null);
                assertEquals(503, ready.statusCode());
                assertEquals("draining", JsonField.get(ready.body(), "status"), ready.body());

                String body = "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"n\":1}}";
                assertEquals(200, server.post("/v1/hook", token, body).statusCode(), "the hook still answers");
                assertEquals(body, sub.next(), "an open socket still receives publishes while draining");
                assertFalse(sub.isClosed(), "sockets stay open during the grace");

                assertEquals(1001, sub.closeCode(), "after the grace the socket is told the server is going away");
            }
            closing.join(Duration.ofSeconds(30).toMillis());
            assertFalse(closing.isAlive(), "close returns within the shutdown timeout");
        } finally {
            if (!closing.isAlive()) {
                server.close();
            }
        }
    }

    @Test
    void closesAreSpreadOverTheConfiguredWindow() {
        int sockets = 10;
        Duration window = Duration.ofSeconds(2);
        TestServer server = TestServer.start(Map.of(
                "courier.shutdown.close.spread.seconds",
                String.valueOf(window.toSeconds()),
                "courier.shutdown.timeout.seconds",
                "8"));
        String token = server.setUp(TestServer.uniqueAudience(), "t");
        List<WsClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < sockets; i++) {
                clients.add(server.connect(token));
            }
            server.close();
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            for (WsClient c : clients) {
                assertEquals(1001, c.closeCode(), "each client is told the server is going away");
                first = Math.min(first, c.closedAtNanos());
                last = Math.max(last, c.closedAtNanos());
            }
            // Scheduled at 0, 0.2 s, ... 1.8 s: all at once would put them within a few milliseconds.
            Duration observed = Duration.ofNanos(last - first);
            assertTrue(
                    observed.compareTo(window.dividedBy(2)) >= 0,
                    "the closes arrived within " + observed + " (expected: spread over " + window + ")");
        } finally {
            clients.forEach(WsClient::close);
            server.close();
        }
    }
}
