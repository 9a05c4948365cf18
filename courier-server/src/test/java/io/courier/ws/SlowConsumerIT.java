package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A client that stops reading is cut off; everyone else keeps receiving everything. */
class SlowConsumerIT {
    private static final String PAD = "x".repeat(16 * 1024);

    @Test
    void nonReadingClientIsDisconnectedWhileOthersReceiveEverything() {
        try (TestServer server = TestServer.start(Map.of("courier.ws.slow.consumer.bytes", "65536"));
             Firehose firehose = Firehose.open(server)) {
            int messages = 400; // 6.4 MB: far past the slow client's 64 KiB bound plus socket buffers
            for (int i = 0; i < messages; i++) {
                firehose.publishAndReceive(i);
            }
            Await.until(() -> server.server().hub().connections() == 1, "the slow client is cut off");
            assertEquals(1, server.server().hub().subscriptions());
        }
    }

    /**
     * With a fixed kernel send buffer the bytes a non-reading client can pin are bounded: 64 KiB in
     * Netty, twice the 16 KiB SO_SNDBUF in the kernel (Linux doubles the value asked for), and what
     * the client's own receive buffer took (about 128 KiB by default for a socket that never read).
     * With the kernel's auto-tuning the send buffer alone may grow to 4 MiB.
     */
    @Test
    void fixedSendBufferCutsASlowReaderOffWithinItsBounds() {
        Map<String, String> config = Map.of("courier.ws.slow.consumer.bytes", "65536", "courier.ws.send.buffer.bytes", "16384");
        try (TestServer server = TestServer.start(config);
             Firehose firehose = Firehose.open(server)) {
            int published = 0;
            while (server.server().hub().connections() == 2 && published < 400) {
                firehose.publishAndReceive(published);
                published++;
            }
            // 64 KiB + 32 KiB + the client's buffer is under 512 KiB: 32 messages of 16 KiB, with room to spare.
            assertTrue(published <= 48, "the slow reader was cut off after " + published + " messages of 16 KiB");
            Await.until(() -> server.server().hub().connections() == 1, "the slow client is cut off");
        }
    }

    /** Two subscribers of topic "firehose": one that reads everything and one that never reads. */
    private record Firehose(TestServer server, String token, WsClient fast, WsClient slow) implements AutoCloseable {
        static Firehose open(TestServer server) {
            String token = server.setUp(TestServer.uniqueAudience(), "firehose");
            String url = "ws://127.0.0.1:" + server.port() + "/ws?token=";
            WsClient fast = WsClient.connect(server.http(), url + get(server.get("/v1/sign", token).body(), "key"));
            WsClient slow = WsClient.connect(server.http(), url + get(server.get("/v1/sign", token).body(), "key"), false);
            assertEquals("connected", get(fast.next(), "action"));
            fast.send("{\"action\":\"subscribe\",\"topic\":\"firehose\",\"id\":1}");
            fast.next();
            // The slow client never requests a message, so it cannot read its acks either:
            // subscribe it and wait until the hub has both subscriptions.
            slow.send("{\"action\":\"subscribe\",\"topic\":\"firehose\"}");
            Await.until(() -> server.server().hub().subscriptions() == 2, "both subscribed");
            return new Firehose(server, token, fast, slow);
        }

        /** A 16 KiB hook publish numbered {@code i}, which the fast client receives next, in order. */
        void publishAndReceive(int i) {
            assertEquals(200, server.post("/v1/hook", token,
                    "{\"action\":\"publish\",\"topic\":\"firehose\",\"message\":{\"i\":" + i + ",\"pad\":\"" + PAD + "\"}}").statusCode());
            assertEquals(String.valueOf(i), get(fast.next(), "message.i"), "the fast client receives every message in order");
        }

        @Override
        public void close() {
            fast.close();
            slow.close();
        }
    }
}
