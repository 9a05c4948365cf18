package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The optional per-connection inbound rate limit, over a real socket. */
class RateLimitIT {

    @Test
    void floodIsRefusedThenClosedWith1008() {
        try (TestServer server = TestServer.start(Map.of("courier.ws.rate.limit.per.second", "5"))) {
            String token = server.setUp(TestServer.uniqueAudience());
            try (WsClient flood = server.connect(token);
                    WsClient calm = server.connect(token)) {
                long firstSent = System.nanoTime();
                for (int i = 0; i < 30 && !flood.isClosed(); i++) {
                    flood.send("{\"action\":\"broadcast\",\"message\":{},\"id\":" + i + "}");
                }
                int acks = 0;
                int limited = 0;
                List<String> ids = new ArrayList<>();
                long lastReply = firstSent;
                for (String m; (m = flood.poll(Duration.ofSeconds(2))) != null; ) {
                    if ("ack".equals(get(m, "action"))) {
                        acks++;
                    } else if ("ERATE_LIMITED".equals(get(m, "code"))) {
                        limited++;
                    } else {
                        continue; // its own broadcasts
                    }
                    ids.add(get(m, "id"));
                    lastReply = System.nanoTime();
                }
                // The token bucket holds 5 at the start and refills at 5 a second, so the acks are 5 plus
                // at most what refilled while the frames arrived, which the client's clock bounds from above.
                double seconds = (lastReply - firstSent) / 1e9;
                assertTrue(acks >= 5, "a full bucket's worth is accepted: " + acks);
                assertTrue(acks <= 5 + 5 * seconds, acks + " acks in " + seconds + " s: more than the limit refilled");
                assertTrue(limited >= 1, "then frames are refused with ERATE_LIMITED");
                assertEquals(
                        IntStream.range(0, acks + limited)
                                .mapToObj(Integer::toString)
                                .toList(),
                        ids,
                        "every frame before the close is answered once, in order");
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

    /**
     * The case: limit 50, a client sending 150 frames a second. Refusals used to be forgotten
     * at every refill, so it was refused for ever and never closed. The pace is only the client's
     * send schedule; the assertion is the close code, whenever it comes (about 1.5 s in).
     */
    @Test
    void sendingAtThreeTimesTheLimitIsClosedWith1008() {
        int limit = 50;
        try (TestServer server =
                TestServer.start(Map.of("courier.ws.rate.limit.per.second", Integer.toString(limit)))) {
            try (WsClient flood = server.connect(server.setUp(TestServer.uniqueAudience()))) {
                long start = System.nanoTime();
                long intervalNanos = 1_000_000_000L / (3 * limit);
                int sent = 0;
                // Bounded: 20 s of sending is over ten times what the close needs.
                for (; sent < 3 * limit * 20 && !flood.isClosed(); sent++) {
                    long due = start + sent * intervalNanos;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait); // pacing the sender, not synchronisation
                    }
                    try {
                        flood.send("{\"action\":\"broadcast\",\"message\":{}}");
                    } catch (CompletionException e) {
                        break; // the server closed while this frame was being sent
                    }
                }
                assertEquals(1008, flood.closeCode(), "closed after " + sent + " frames");
            }
        }
    }
}
