package io.courier.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Graceful stop: every socket is told 1001 and the port stops accepting. */
class ShutdownIT {

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
}
