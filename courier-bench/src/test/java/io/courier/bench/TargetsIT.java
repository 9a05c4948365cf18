package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same tiny fan-out, with the same client, against each comparison target's real server: every
 * publish acknowledged reaches every subscriber exactly once and in order, and the server's CPU and
 * RSS are read. Two topics and two publishers, so that each publisher's acks are counted per topic.
 */
class TargetsIT {
    private static final int SUBSCRIBERS = 6;

    private static Summary fanout(String target, ServerUnderTest server) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--target", target,
                "--url", "http://127.0.0.1:" + server.port(),
                "--server-pid", Long.toString(server.pid()),
                "--subscribers", Integer.toString(SUBSCRIBERS),
                "--topics", "2",
                "--publishers", "2",
                "--duration", "1",
                "--rate", "200",
                "--probes", "3",
                "--threads", "1",
                "--sample-every", "1"));
        for (Map.Entry<String, String> e : server.clientFlags().entrySet()) {
            args.add(e.getKey());
            args.add(e.getValue());
        }
        return Load.execute(LoadOptions.parse(args.toArray(String[]::new), Map.of()));
    }

    private static void assertDelivered(Summary s) {
        assertEquals(SUBSCRIBERS, s.opened().connected(), "every subscriber ready");
        Summary.Phase p = s.measured();
        assertTrue(p.acked() > 50, "publishes acknowledged: " + p.acked());
        assertEquals(p.sent(), p.acked(), "every publish acknowledged");
        assertEquals(0, p.errors());
        // 200 publishes/s over 2 topics, each topic read by 3 subscribers: 3 deliveries per publish.
        assertEquals(p.acked() * SUBSCRIBERS / 2, p.expected());
        assertEquals(p.expected(), p.received(), "every delivery arrived");
        Summary.Accounting a = s.accounting();
        assertEquals(SUBSCRIBERS, a.subscribersChecked());
        assertEquals(0, a.missing());
        assertEquals(0, a.extra());
        assertEquals(0, a.outOfSequence());
        assertEquals(0, a.unreadable());
        assertEquals(0, s.probes().incomplete(), "each probe reached its topic's subscribers");
        assertTrue(p.latencyMicros().getTotalCount() >= p.received() / 2, "latency sampled");
        assertTrue(p.rss().peakKib() > 1024, "server RSS read from /proc: " + p.rss());
        assertTrue(p.cpu().serverCpuSeconds() >= 0, "server CPU read from /proc");
    }

    @Test
    void courierDeliversEveryPublishOnce(@TempDir Path dir) throws Exception {
        try (ServerUnderTest server = ServerUnderTest.courier(dir)) {
            Summary s = fanout("courier", server);
            assertDelivered(s);
            assertEquals("courier", s.target());
            assertTrue(s.serverAfter().ok(), "Courier's /metrics scraped");
        }
    }

    @Test
    void natsOverWebSocketDeliversEveryPublishOnce(@TempDir Path dir) throws Exception {
        try (ServerUnderTest server = ServerUnderTest.nats(dir)) {
            Summary s = fanout("nats", server);
            assertDelivered(s);
            assertEquals("nats", s.target());
        }
    }

    @Test
    void socketIoDeliversEveryPublishOnce(@TempDir Path dir) throws Exception {
        try (ServerUnderTest server = ServerUnderTest.socketIo(dir)) {
            Summary s = fanout("socketio", server);
            assertDelivered(s);
            assertEquals("socketio", s.target());
        }
    }
}
