package io.courier.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.HttpWire;
import io.courier.testing.PrometheusText;
import io.courier.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code courier.proxy.protocol}: every test connection really comes from 127.0.0.1, and states
 * another client in its PROXY header. With one connection allowed per address, a second connection
 * stating the same client is refused while one stating another client gets in: the server keys its
 * limits on the stated address, not the proxy's.
 */
class ProxyProtocolIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    private static final Map<String, String> BEHIND_PROXY =
            Map.of("courier.proxy.protocol", "true", "courier.max.connections.per.address", "1");

    private final List<HttpWire> held = new ArrayList<>();

    @AfterEach
    void closeHeld() {
        held.forEach(HttpWire::close);
    }

    @Test
    void v1HeaderStatesTheClientThatPerAddressLimitsCount() {
        try (TestServer server = TestServer.start(BEHIND_PROXY)) {
            held.add(answered(server, v1("203.0.113.7")));

            try (HttpWire same = new HttpWire(server.port(), WAIT)) {
                same.send(v1("203.0.113.7") + HEALTHZ);
                assertEquals(Optional.empty(), same.readOrClosed(), "a second connection of 203.0.113.7 is closed");
            }
            assertEquals(1, refused(server, "max_connections_per_address"));
            held.add(answered(server, v1("203.0.113.8")));

            held.remove(0).close();
            Await.until(
                    () -> tryAnswered(server, v1("203.0.113.7")),
                    WAIT,
                    "203.0.113.7 gets in again once its connection closed");
        }
    }

    @Test
    void v2BinaryHeaderIsAcceptedAndItsClientCounted() {
        try (TestServer server = TestServer.start(BEHIND_PROXY)) {
            try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
                wire.send(concat(v2(new byte[] {(byte) 198, 51, 100, 9}, 40_000), bytes(HEALTHZ)));
                assertEquals(200, wire.read().status(), "served after a v2 header");
                assertEquals(
                        Optional.empty(),
                        sendAndRead(server, v1("198.51.100.9") + HEALTHZ),
                        "the v2 header's client holds its one slot");
            }
        }
    }

    @Test
    void connectionWithoutAHeaderIsClosedUnanswered() {
        try (TestServer server = TestServer.start(BEHIND_PROXY)) {
            assertEquals(Optional.empty(), sendAndRead(server, HEALTHZ), "plain HTTP is closed");
            assertEquals(
                    Optional.empty(), sendAndRead(server, "PROXY NONSENSE\r\n" + HEALTHZ), "a malformed header too");
            // Netty's decoder closes first and reports after, so the count may trail the client's EOF.
            Await.until(() -> refused(server, "proxy_header") >= 2, "each is counted");
            assertEquals(2, refused(server, "proxy_header"), "each is counted once");
            held.add(answered(server, v1("203.0.113.9")));
        }
    }

    @Test
    void withTheSettingOffAProxyLineIsABadRequest() {
        try (TestServer server = TestServer.start(Map.of())) {
            Optional<HttpWire.Response> r = sendAndRead(server, v1("203.0.113.7") + HEALTHZ);
            assertTrue(r.isPresent(), "answered");
            assertEquals(400, r.get().status(), r.get().toString());
        }
    }

    private static String v1(String client) {
        return "PROXY TCP4 " + client + " 127.0.0.1 51000 8883\r\n";
    }

    /** A PROXY protocol v2 header: PROXY command, TCP over IPv4, from {@code source}:{@code port}. */
    private static byte[] v2(byte[] source, int port) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        out.write(0x21); // version 2, PROXY
        out.write(0x11); // AF_INET, STREAM
        out.writeBytes(new byte[] {0, 12}); // addresses: 4 + 4 + 2 + 2
        out.writeBytes(source);
        out.writeBytes(new byte[] {127, 0, 0, 1});
        out.writeBytes(new byte[] {(byte) (port >> 8), (byte) port});
        out.writeBytes(new byte[] {(byte) (8883 >> 8), (byte) 8883});
        return out.toByteArray();
    }

    private HttpWire answered(TestServer server, String header) {
        HttpWire wire = new HttpWire(server.port(), WAIT);
        wire.send(header + HEALTHZ);
        Optional<HttpWire.Response> r = wire.readOrClosed();
        assertTrue(r.isPresent(), "closed unanswered: " + header.strip());
        assertEquals(200, r.get().status(), r.get().toString());
        return wire;
    }

    private boolean tryAnswered(TestServer server, String header) {
        HttpWire wire = new HttpWire(server.port(), WAIT);
        wire.send(header + HEALTHZ);
        if (wire.readOrClosed().isPresent()) {
            held.add(wire);
            return true;
        }
        wire.close();
        return false;
    }

    private static Optional<HttpWire.Response> sendAndRead(TestServer server, String request) {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send(request);
            return wire.readOrClosed();
        }
    }

    private static double refused(TestServer server, String reason) {
        return PrometheusText.value(
                server.server().metrics().registry().scrape(),
                "courier_connections_refused_total{reason=\"" + reason + "\"}");
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
