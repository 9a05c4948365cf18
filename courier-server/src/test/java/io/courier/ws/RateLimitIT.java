package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The optional per-connection inbound rate limit, over a real socket. */
class RateLimitIT {

    @Test
    void floodIsRefusedThenClosedWith1008() {
        try (TestServer server = TestServer.start(Map.of("courier.ws.rate.limit.per.second", "5"))) {
            String token = server.setUp(TestServer.uniqueAudience());
            try (WsClient flood = server.connect(token); WsClient calm = server.connect(token)) {
                for (int i = 0; i < 30 && !flood.isClosed(); i++) {
                    flood.send("{\"action\":\"broadcast\",\"message\":{},\"id\":" + i + "}");
                }
                int acks = 0;
                int limited = 0;
                for (String m; (m = flood.poll(java.time.Duration.ofSeconds(2))) != null; ) {
                    if ("ack".equals(get(m, "action"))) {
                        acks++;
                    } else if ("ERATE_LIMITED".equals(get(m, "code"))) {
                        limited++;
                    }
                }
                assertTrue(acks >= 5 && acks < 10, "about one second's worth is accepted: " + acks);
                assertTrue(limited >= 1, "then frames are refused with ERATE_LIMITED");
                assertEquals(1008, flood.closeCode(), "a client that keeps going is closed");
                calm.send("{\"action\":\"broadcast\",\"message\":{\"calm\":1},\"id\":\"c\"}");
                String reply;
                do {
                    reply = calm.next(); // the flood's broadcasts reach the calm client too
                } while (!"ack".equals(get(reply, "action")));
                assertEquals("c", get(reply, "id"), "other connections are unaffected");
            }
        }
    }
}
