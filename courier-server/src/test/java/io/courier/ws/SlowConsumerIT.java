package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static io.courier.testing.PrometheusText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
     * With a fixed kernel send buffer the bytes a non-reading client is sent are bounded: the
     * 64 KiB bound in Netty plus the publish in hand (the fan-out stops there and waits), twice the
     * 16 KiB SO_SNDBUF in the kernel (Linux doubles the value asked for), and the client's own
     * receive buffer (16 KiB asked, 32 KiB at most). With the kernel's auto-tuning the send buffer
     * alone may grow to 4 MiB. Counted as the bytes the client receives once it reads after the cut:
     * since the fan-out waits for a connection past its bound, how many messages were published
     * meanwhile says nothing about what the stalled one was sent.
     */
    @Test
    void fixedSendBufferCutsASlowReaderOffWithinItsBounds() {
        int bound = 65536;
        Map<String, String> config = Map.of(
                "courier.ws.slow.consumer.bytes", String.valueOf(bound), "courier.ws.send.buffer.bytes", "16384");
        try (TestServer server = TestServer.start(config);
                Firehose firehose = Firehose.open(server);
                WsWire stalled = WsWire.open(
                        server.port(), "/ws?token=" + server.sign(firehose.token()), Duration.ofSeconds(10), 16384)) {
            stalled.writeFrame(
                    0x1, "{\"action\":\"subscribe\",\"topic\":\"firehose\"}".getBytes(StandardCharsets.UTF_8));
            Await.until(() -> server.server().hub().subscriptions() == 3, "the stalled client subscribed");
            int published = 0;
            while (server.server().hub().subscriptions() == 3 && published < 400) {
                firehose.publishAndReceive(published);
                published++;
            }
            for (int more = 0; more < 400 && server.server().hub().subscriptions() > 1; more++) {
                firehose.publishAndReceive(published++); // until the fixture's non-reader is cut off too
            }
            Await.until(() -> server.server().hub().subscriptions() == 1, "both non-readers are cut off");
            assertEquals(
                    2.0,
                    value(
                            server.server().metrics().registry().scrape(),
                            "courier_connections_closed_total{reason=\"slow_consumer\"}"),
                    "both non-readers closed as slow consumers");

            // The server drops the socket a grace period after its close frame; what the kernels
            // held still arrives, and the close frame too when everything fitted there.
            WsWire.Drained drained = stalled.drain();
            if (drained.closeCode() != null) {
                assertEquals(1008, drained.closeCode(), "slow consumer close code");
            }
            long documented = bound + (PAD.length() + 100) + 2 * 16384 + 2 * 16384 + 512; // 512: the connected frame
            assertTrue(
                    drained.payloadBytes() <= documented,
                    "the stalled client was sent " + drained.payloadBytes()
                            + " bytes before its close (documented bound " + documented + ") over " + published
                            + " publishes");
        }
    }

    /** Two subscribers of topic "firehose": one that reads everything and one that never reads. */
    private record Firehose(TestServer server, String token, WsClient fast, WsClient slow) implements AutoCloseable {
        static Firehose open(TestServer server) {
            String token = server.setUp(TestServer.uniqueAudience(), "firehose");
            String url = "ws://127.0.0.1:" + server.port() + "/ws?token=";
            WsClient fast = WsClient.connect(
                    server.http(), url + get(server.get("/v1/sign", token).body(), "key"));
            WsClient slow = WsClient.connect(
                    server.http(), url + get(server.get("/v1/sign", token).body(), "key"), false);
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
            assertEquals(
                    200,
                    server.post(
                                    "/v1/hook",
                                    token,
                                    "{\"action\":\"publish\",\"topic\":\"firehose\",\"message\":{\"i\":" + i
                                            + ",\"pad\":\"" + PAD + "\"}}")
                            .statusCode());
            assertEquals(
                    String.valueOf(i),
                    get(fast.next(), "message.i"),
                    "the fast client receives every message in order");
        }

        @Override
        public void close() {
            fast.close();
            slow.close();
        }
    }
}
