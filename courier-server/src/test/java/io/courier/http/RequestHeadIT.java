package io.courier.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.HttpWire;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The answers a request gets while its head is arriving: the header timeout
 * ({@code courier.http.header.timeout.seconds}, counted from the request's first byte) and the
 * {@code Expect} header. The request timeout is kept long here so that only the header timeout can
 * explain a 408.
 */
class RequestHeadIT {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @RegisterExtension
    static final CourierExtension server = CourierExtension.with(Map.of(
            "courier.http.header.timeout.seconds", "1",
            "courier.http.request.timeout.seconds", "60"));

    @Test
    void headersStalledPastTheHeaderTimeoutGet408() {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");

            HttpWire.Response response = wire.read();

            assertEquals(408, response.status(), response.toString());
            assertEquals("EREQUEST_TIMEOUT", JsonField.get(response.body(), "error.code"));
            assertTrue(wire.awaitClose(WAIT), "closed after the 408");
        }
    }

    @Test
    void oneByteOfARequestStartsTheHeaderClock() {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send("G");

            HttpWire.Response response = wire.read();

            assertEquals(408, response.status(), response.toString());
            assertEquals("EREQUEST_TIMEOUT", JsonField.get(response.body(), "error.code"));
        }
    }

    @Test
    void idleKeepAliveConnectionOutlivesTheHeaderTimeout() {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, wire.read().status());

            // Three header timeouts without a byte: only the (60 s) request timeout governs an idle connection.
            assertTrue(!wire.awaitClose(Duration.ofSeconds(3)), "an idle keep-alive connection was closed");

            wire.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, wire.read().status());
        }
    }

    @Test
    void headersCompleteInTimeAreNotCutWhileTheBodyArrives() {
        String token = server.token(TestServer.uniqueAudience());
        String body = "{\"topic\":\"a\"}";
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send("POST /v1/topic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n{");
            // The body may take the request timeout; the header clock stopped with the head.
            Await.holds(() -> true, Duration.ofMillis(1500), "pause past the header timeout");
            wire.send(body.substring(1));

            HttpWire.Response response = wire.read();

            assertEquals(404, response.status(), response.toString()); // the audience does not exist
            assertEquals("EAUD_NOTFOUND", JsonField.get(response.body(), "error.code"));
        }
    }

    @Test
    void unknownExpectationGets417WithTheJsonError() {
        try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
            wire.send("POST /v1/hook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + server.token(TestServer.uniqueAudience()) + "\r\nExpect: foo\r\nContent-Length: 2\r\n\r\n");

            HttpWire.Response response = wire.read();

            assertEquals(417, response.status(), response.toString());
            assertEquals("application/json", response.header("Content-Type").orElse(""));
            assertEquals("EEXPECTATION_FAILED", JsonField.get(response.body(), "error.code"));
        }
    }
}
