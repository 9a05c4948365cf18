package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every socket error frame and close code, and the refusals before an upgrade. */
class ProtocolErrorsIT {
    private static final Duration RAW_TIMEOUT = Duration.ofSeconds(10);

    @RegisterExtension
    static final CourierExtension server =
            CourierExtension.with(Map.of("courier.ws.max.frame.bytes", "1024", "courier.ws.max.subscriptions", "3"));

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"action\":\"subscribe\",\"topic\":\"nope\",\"id\":7}                    | ETOPIC_NOTFOUND",
                "{\"action\":\"publish\",\"topic\":\"nope\",\"message\":{},\"id\":7}        | ETOPIC_NOTFOUND",
                "{\"action\":\"publish\",\"topic\":\"t\",\"message\":\"text\",\"id\":7}     | EMESSAGE_INVALID",
                "{\"action\":\"publish\",\"topic\":\"t\",\"message\":[1],\"id\":7}          | EMESSAGE_INVALID",
                "{\"action\":\"publish\",\"topic\":\"t\",\"id\":7}                          | EMESSAGE_INVALID",
                "{\"action\":\"broadcast\",\"message\":null,\"id\":7}                       | EMESSAGE_INVALID",
                "{\"action\":\"dance\",\"id\":7}                                            | EACTION_INVALID",
                "{\"id\":7}                                                                 | EACTION_INVALID",
                "{\"action\":5,\"id\":7}                                                    | EACTION_INVALID",
                "{\"action\":\"subscribe\",\"id\":7}                                        | ETOPIC_INVALID",
                "{\"action\":\"subscribe\",\"topic\":42,\"id\":7}                           | ETOPIC_INVALID",
                "{\"action\":\"subscribe\",\"topic\":\"has space\",\"id\":7}                | ETOPIC_INVALID",
                "{\"id\":7,\"action\":\"subscribe\",\"topic\":\"t\"                         | EBODY_INVALID",
                "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":{}}                       | EBODY_INVALID",
            })
    void badFrameGetsErrorFrameAndConnectionStaysOpen(String frame, String code) {
        String token = server.setUp(TestServer.uniqueAudience(), "t");
        try (WsClient c = server.connect(token)) {
            c.send(frame.trim());
            String error = c.next();
            assertEquals("error", get(error, "action"), error);
            assertEquals(code, get(error, "code"), error);
            assertTrue(get(error, "message").length() > 0);
            if (frame.contains("\"id\":7")) {
                assertEquals("7", get(error, "id"), "the id is echoed when it was readable");
            }
            c.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"after\"}");
            assertEquals("{\"action\":\"ack\",\"id\":\"after\"}", c.next());
        }
    }

    @Test
    void malformedJsonWithoutIdGetsErrorWithoutId() {
        String token = server.setUp(TestServer.uniqueAudience());
        try (WsClient c = server.connect(token)) {
            c.send("not json");
            String error = c.next();
            assertEquals("EBODY_INVALID", get(error, "code"));
            assertNull(get(error, "id"));
        }
    }

    @Test
    void subscriptionsPerConnectionAreBounded() {
        String token = server.setUp(TestServer.uniqueAudience(), "a", "b", "c", "d");
        try (WsClient c = server.connect(token)) {
            for (String t : new String[] {"a", "b", "c"}) {
                c.send("{\"action\":\"subscribe\",\"topic\":\"" + t + "\",\"id\":1}");
                assertEquals("ack", get(c.next(), "action"));
            }
            c.send("{\"action\":\"subscribe\",\"topic\":\"d\",\"id\":2}");
            assertEquals("ESUBSCRIPTION_LIMIT", get(c.next(), "code"));
            c.send("{\"action\":\"subscribe\",\"topic\":\"a\",\"id\":3}");
            assertEquals("ack", get(c.next(), "action"), "re-subscribing a held topic is still a no-op");
        }
    }

    @Test
    void binaryFrameClosesWith1003() {
        try (WsClient c = server.connect(server.setUp(TestServer.uniqueAudience()))) {
            c.sendBinary(new byte[] {1, 2, 3});
            assertEquals(1003, c.closeCode());
        }
    }

    @Test
    void oversizedFrameClosesWith1009() {
        try (WsClient c = server.connect(server.setUp(TestServer.uniqueAudience()))) {
            c.send("{\"action\":\"broadcast\",\"message\":{\"pad\":\"" + "x".repeat(2000) + "\"}}");
            assertEquals(1009, c.closeCode());
        }
    }

    @Test
    void clientPingIsAnswered() {
        try (WsClient c = server.connect(server.setUp(TestServer.uniqueAudience()))) {
            c.socket()
                    .sendPing(ByteBuffer.wrap("hi".getBytes(StandardCharsets.US_ASCII)))
                    .join();
            assertEquals("hi", StandardCharsets.US_ASCII.decode(c.nextPong()).toString());
        }
    }

    @Test
    void missingKeyIsUnauthorized() {
        HttpResponse<String> r =
                server.send(HttpRequest.newBuilder(server.uri("/ws")).header("Sec-WebSocket-Version", "13"), null);
        assertEquals(426, r.statusCode(), "a plain GET without upgrade headers");
        assertEquals("EUPGRADE_REQUIRED", get(r.body(), "error.code"));
        try (WsWire raw = WsWire.connect(server.port(), RAW_TIMEOUT)) {
            String head = raw.upgrade("/ws");
            assertTrue(head.startsWith("HTTP/1.1 401"), head);
        }
    }

    @Test
    void tamperedKeyIsUnauthorized() {
        String key = get(
                server.get("/v1/sign", server.setUp(TestServer.uniqueAudience()))
                        .body(),
                "key");
        int mid = key.length() / 2;
        String tampered = key.substring(0, mid) + (key.charAt(mid) == 'A' ? 'B' : 'A') + key.substring(mid + 1);
        try (WsWire raw = WsWire.connect(server.port(), RAW_TIMEOUT)) {
            String head = raw.upgrade("/ws?token=" + tampered);
            assertTrue(head.startsWith("HTTP/1.1 401"), head);
            assertTrue(head.toLowerCase().contains("content-type: application/json"), head);
        }
    }

    @Test
    void bearerTokenIsNotAConnectionKey() {
        String token = server.setUp(TestServer.uniqueAudience());
        try (WsWire raw = WsWire.connect(server.port(), RAW_TIMEOUT)) {
            assertTrue(raw.upgrade("/ws?token=" + token).startsWith("HTTP/1.1 401"));
        }
    }

    @Test
    void expiredKeyIsUnauthorized() {
        try (TestServer shortLived = TestServer.start(Map.of("courier.sign.ttl.seconds", "1"))) {
            String token = shortLived.setUp(TestServer.uniqueAudience());
            String key = get(shortLived.get("/v1/sign", token).body(), "key");
            Await.until(
                    () -> {
                        try (WsWire raw = WsWire.connect(shortLived.port(), RAW_TIMEOUT)) {
                            return raw.upgrade("/ws?token=" + key).startsWith("HTTP/1.1 401");
                        }
                    },
                    Duration.ofSeconds(5),
                    "the key expires after its 1 s TTL");
        }
    }

    @Test
    void silentConnectionIsPingedThenClosedWhenIdle() {
        try (TestServer quick = TestServer.start(
                Map.of("courier.ws.ping.interval.seconds", "1", "courier.ws.idle.timeout.seconds", "2"))) {
            String key = get(
                    quick.get("/v1/sign", quick.setUp(TestServer.uniqueAudience()))
                            .body(),
                    "key");
            try (WsWire raw = WsWire.connect(quick.port(), RAW_TIMEOUT)) {
                assertTrue(raw.upgrade("/ws?token=" + key).startsWith("HTTP/1.1 101"));
                assertEquals("connected", get(raw.readFrame().text(), "action"));
                WsWire.Frame ping = raw.readFrame();
                assertEquals(0x9, ping.opcode(), "a ping after the ping interval");
                WsWire.Frame close = raw.readFrame();
                for (int pings = 0; close.opcode() == 0x9 && pings < 10; pings++) {
                    close = raw.readFrame(); // more pings while the idle timeout runs
                }
                assertEquals(0x8, close.opcode());
                assertEquals(1001, close.closeCode(), "closed after the idle timeout without a pong");
            }
        }
    }

    @Test
    void subscriberThatOnlyReceivesIsPingedAndStaysOpen() {
        try (TestServer quick = TestServer.start(
                Map.of("courier.ws.ping.interval.seconds", "1", "courier.ws.idle.timeout.seconds", "2"))) {
            String token = quick.setUp(TestServer.uniqueAudience(), "ticks");
            String url = "ws://127.0.0.1:" + quick.port() + "/ws?token=";
            try (WsClient listener = WsClient.connect(
                    quick.http(), url + get(quick.get("/v1/sign", token).body(), "key"))) {
                listener.next();
                listener.send("{\"action\":\"subscribe\",\"topic\":\"ticks\",\"id\":1}");
                listener.next();
                // Traffic flows to the listener for twice the idle timeout; it never sends a frame
                // itself, only the pongs its client library answers pings with.
                long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
                int sent = 0;
                while (System.nanoTime() < end) {
                    assertEquals(
                            200,
                            quick.post("/v1/hook", token, "{\"action\":\"publish\",\"topic\":\"ticks\",\"message\":{}}")
                                    .statusCode());
                    sent++;
                    listener.next();
                    assertTrue(!listener.isClosed(), "closed after " + sent + " messages");
                }
                assertTrue(!listener.isClosed(), "a receiving client that answers pings stays connected");
            }
        }
    }

    @Test
    void answeringPingsKeepsConnectionOpen() {
        try (TestServer quick = TestServer.start(
                Map.of("courier.ws.ping.interval.seconds", "1", "courier.ws.idle.timeout.seconds", "2"))) {
            String token = quick.setUp(TestServer.uniqueAudience());
            String key = get(quick.get("/v1/sign", token).body(), "key");
            try (WsClient c = WsClient.connect(quick.http(), "ws://127.0.0.1:" + quick.port() + "/ws?token=" + key)) {
                c.next();
                // The JDK client answers pings with pongs; after twice the idle timeout it is still open.
                assertNull(c.poll(Duration.ofSeconds(4)));
                assertTrue(!c.isClosed(), "a client that answers pings stays connected");
                c.send("{\"action\":\"broadcast\",\"message\":{},\"id\":1}");
                assertEquals("{\"action\":\"ack\",\"id\":1}", c.next());
            }
        }
    }
}
