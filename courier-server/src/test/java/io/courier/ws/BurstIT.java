package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import io.netty.util.NettyRuntime;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A burst of publishes read from one TCP write lands in one fan-out drain on the publisher's event
 * loop. Subscribers that keep reading get all of it and stay connected, whatever the size of the
 * burst. (That a subscriber that never reads is still cut off after a bounded number of bytes is
 * {@code SlowConsumerIT}'s.)
 */
class BurstIT {
    /**
     * One subscriber per event loop at least: the server runs Netty's default of two loops per core
     * and hands accepted connections to them in turn, so consecutive connections cover every loop,
     * the publisher's included.
     */
    private static final int READERS = Math.max(4, 2 * NettyRuntime.availableProcessors());

    @Test
    void burstOf25LargePublishesInOneWriteReachesEveryReader() {
        try (TestServer server = TestServer.start()) {
            burstReachesEveryReader(server, 25, 60_000);
        }
    }

    @Test
    void burstOf1000PublishesInOneWriteReachesEveryReader() {
        try (TestServer server = TestServer.start()) {
            burstReachesEveryReader(server, 1000, 8_000);
        }
    }

    /**
     * 8 MB against a 64 KiB bound: 128 times the bound, past the 16 times a loop queues before the
     * publishing socket stops being read.
     */
    @Test
    void burstFarPastTheBoundSlowsThePublisherInsteadOfCuttingReaders() {
        try (TestServer server = TestServer.start(Map.of("courier.ws.slow.consumer.bytes", "65536"))) {
            burstReachesEveryReader(server, 1000, 8_000);
        }
    }

    static void burstReachesEveryReader(TestServer server, int publishes, int bytesEach) {
        String token = server.setUp(TestServer.uniqueAudience(), "burst");
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            keys.add(server.sign(token));
        }
        List<WsClient> readers = new ArrayList<>();
        try {
            // Connect back to back, so that each loop gets one before the publisher takes its own.
            for (String key : keys) {
                readers.add(WsClient.connect(server.http(), server.wsUrl(key)));
            }
            for (WsClient reader : readers) {
                assertEquals("connected", get(reader.next(), "action"));
                reader.send("{\"action\":\"subscribe\",\"topic\":\"burst\",\"id\":1}");
                assertEquals("ack", get(reader.next(), "action"));
            }
            try (WsWire publisher = openPublisher(server, token)) {
                ByteArrayOutputStream burst = new ByteArrayOutputStream();
                for (int i = 0; i < publishes; i++) {
                    burst.writeBytes(publish(i, bytesEach));
                }
                assertTrue(publisher.write(burst.toByteArray()), "the burst is written in one call");
                for (int r = 0; r < readers.size(); r++) {
                    WsClient reader = readers.get(r);
                    for (int i = 0; i < publishes; i++) {
                        String m = reader.next();
                        assertEquals(
                                String.valueOf(i),
                                get(m, "message.i"),
                                "reader " + r + " gets message " + i + " in order");
                    }
                    assertFalse(reader.isClosed(), "reader " + r + " is still connected");
                }
                assertEquals(readers.size(), server.server().hub().subscriptions(), "no reader was cut off");
            }
        } finally {
            readers.forEach(WsClient::close);
        }
    }

    private static WsWire openPublisher(TestServer server, String token) {
        WsWire publisher = WsWire.open(server.port(), "/ws?token=" + server.sign(token), Duration.ofSeconds(10));
        assertTrue(publisher.readFrame().text().contains("\"connected\""));
        return publisher;
    }

    /** One masked publish frame of about {@code bytes} bytes, numbered {@code i}. */
    private static byte[] publish(int i, int bytes) {
        String json = "{\"action\":\"publish\",\"topic\":\"burst\",\"message\":{\"i\":" + i + ",\"pad\":\""
                + "x".repeat(bytes) + "\"}}";
        return WsWire.frame(0x81, true, json.getBytes(StandardCharsets.UTF_8), -1);
    }
}
