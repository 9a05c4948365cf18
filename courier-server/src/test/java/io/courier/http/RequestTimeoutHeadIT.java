package io.courier.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.courier.testing.CourierExtension;
import io.courier.testing.HttpWire;
import io.courier.testing.JsonField;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A head still incomplete when the (shorter) request timeout fires is answered 408, not closed silently. */
class RequestTimeoutHeadIT {
    @RegisterExtension
    static final CourierExtension server = CourierExtension.with(Map.of(
            "courier.http.header.timeout.seconds", "60",
            "courier.http.request.timeout.seconds", "1"));

    @Test
    void headersIncompleteAtTheRequestTimeoutGet408() {
        try (HttpWire wire = new HttpWire(server.port(), Duration.ofSeconds(15))) {
            wire.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");

            HttpWire.Response response =
                    wire.readOrClosed().orElseThrow(() -> new AssertionError("closed without an answer"));

            assertEquals(408, response.status(), response.toString());
            assertEquals("EREQUEST_TIMEOUT", JsonField.get(response.body(), "error.code"));
        }
    }
}
