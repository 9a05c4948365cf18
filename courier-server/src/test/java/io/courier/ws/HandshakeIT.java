package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.CourierExtension;
import io.courier.testing.HttpWire;
import io.courier.testing.TestServer;
import io.courier.testing.WsWire;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Only RFC 6455 (version 13) handshakes are upgraded: the obsolete Hixie drafts and other versions
 * get 426 naming version 13, a malformed version-13 request gets 400; both with the JSON error and
 * without a leaked buffer (the class's leak check).
 */
class HandshakeIT {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration RAW_TIMEOUT = Duration.ofSeconds(10);
    private static String key;

    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @BeforeAll
    static void setUpAudiences() {
        key = server.sign(server.setUp(TestServer.uniqueAudience()));
    }

    private static String request(String extraHeaders) {
        return "GET /ws?token=" + key + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + extraHeaders + "\r\n";
    }

    private static HttpWire.Response send(String request) {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send(request);
            return wire.read();
        }
    }

    @Test
    void hixie75RequestWithOriginAndNoVersionGets426() {
        // draft-hixie-thewebsocketprotocol-75: Origin, no Sec-WebSocket-* headers at all.
        HttpWire.Response r = send(request("Origin: http://127.0.0.1\r\n"));
        assertVersionRequired(r);
    }

    @Test
    void hixie76RequestWithoutOriginGets426AndNoLeak() {
        // draft-hixie-thewebsocketprotocol-76: two numeric keys in headers and 8 key bytes after the head.
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send(request("Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n")
                    + "^n:ds[4U");
            assertVersionRequired(wire.read());
            assertTrue(
                    wire.awaitClose(WAIT),
                    "the connection is closed after the refusal (the key bytes are never parsed as a request)");
        }
    }

    @ParameterizedTest(name = "Sec-WebSocket-Version: {0}")
    @ValueSource(strings = {"8", "7", "0", "12", "14", "13, 8", "thirteen", ""})
    void otherVersionsGet426(String version) {
        assertVersionRequired(send(
                request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: " + version + "\r\n")));
    }

    @Test
    void version13WithoutKeyGets400() {
        assertMalformed(send(request("Sec-WebSocket-Version: 13\r\n")));
    }

    @ParameterizedTest(name = "Sec-WebSocket-Key: {0}")
    @ValueSource(strings = {"", "not base64!", "c2hvcnQ=", "dGhlIHNhbXBsZSBub25jZSB0b28gbG9uZw=="})
    void version13WithMalformedKeyGets400(String value) {
        // RFC 6455 section 4.2.1: the key, base64-decoded, MUST be 16 bytes long.
        assertMalformed(send(request("Sec-WebSocket-Key: " + value + "\r\nSec-WebSocket-Version: 13\r\n")));
    }

    @Test
    void repeatedKeyGets400() {
        assertMalformed(send(
                request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n")));
    }

    @Test
    void wellFormedVersion13IsUpgraded() {
        try (WsWire raw = WsWire.connect(server.port(), RAW_TIMEOUT)) {
            raw.write(request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"));
            String head = raw.readHead();
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            // RFC 6455 section 1.3's worked example: this key's accept value.
            assertTrue(head.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head);
            assertEquals("connected", get(raw.readFrame().text(), "action"));
        }
    }

    private static void assertVersionRequired(HttpWire.Response r) {
        assertEquals(426, r.status(), r.toString());
        assertEquals(
                "13",
                r.header("Sec-WebSocket-Version").orElse(null),
                "RFC 6455 section 4.4: name the version we speak");
        assertEquals("EUPGRADE_REQUIRED", get(r.body(), "error.code"), r.body());
        assertTrue(r.header("Content-Type").orElse("").startsWith("application/json"), r.toString());
    }

    private static void assertMalformed(HttpWire.Response r) {
        assertEquals(400, r.status(), r.toString());
        assertEquals("EHANDSHAKE_INVALID", get(r.body(), "error.code"), r.body());
        assertTrue(r.header("Content-Type").orElse("").startsWith("application/json"), r.toString());
    }
}
