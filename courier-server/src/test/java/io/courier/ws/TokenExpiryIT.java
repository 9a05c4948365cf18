package io.courier.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code courier.ws.close.on.token.expiry}: long-lived sockets respect the bearer token's lifetime. */
class TokenExpiryIT {

    @Test
    void connectionIsClosedWith4001WhenItsTokenExpires() {
        try (TestServer server = TestServer.start(
                Map.of("courier.ws.close.on.token.expiry", "true", "courier.jwt.clock.skew.seconds", "0"))) {
            String audience = TestServer.uniqueAudience();
            server.setUp(audience);
            try (WsClient c = server.connect(server.token(audience, Duration.ofSeconds(2)))) {
                assertEquals(4001, c.closeCode(), "closed when the 2 s token expires");
            }
        }
    }

    @Test
    void byDefaultConnectionsOutliveTheirToken() {
        try (TestServer server = TestServer.start(Map.of("courier.jwt.clock.skew.seconds", "0"))) {
            String audience = TestServer.uniqueAudience();
            server.setUp(audience);
            try (WsClient c = server.connect(server.token(audience, Duration.ofSeconds(1)))) {
                assertNull(c.poll(Duration.ofSeconds(3)));
                assertFalse(c.isClosed(), "the option is off by default");
                c.send("{\"action\":\"broadcast\",\"message\":{},\"id\":1}");
                // The ack and the sender's own copy of the broadcast, in either order.
                assertEquals(
                        Set.of("{\"action\":\"ack\",\"id\":1}", "{\"action\":\"broadcast\",\"message\":{}}"),
                        Set.copyOf(c.take(2)));
            }
        }
    }
}
