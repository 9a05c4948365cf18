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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * The server-wide outbound budget ({@code courier.ws.outbound.max.bytes}) with a per-connection
 * bound so large that only the budget can act: subscribers that stop reading are cut off once
 * together they hold too much, the ones that read get everything, and the total stays bounded.
 */
class OutboundBudgetIT {
    private static final long BUDGET = 4L * 1024 * 1024;
    /** Far past the budget: the per-connection rule could only fire if the budget let 64 MiB pile up. */
    private static final String PER_CONNECTION = String.valueOf(64 * 1024 * 1024);

    /** 48 KiB: within the hook's 64 KiB body limit, and few publishes fill the budget. */
    private static final String PAD = "x".repeat(48 * 1024);

    private static final int STALLED = 3;

    @Test
    void stalledSubscribersAreCutOffForTheBudgetWhileTheReaderGetsEverything() {
        Map<String, String> config = Map.of(
                "courier.ws.outbound.max.bytes",
                String.valueOf(BUDGET),
                "courier.ws.slow.consumer.bytes",
                PER_CONNECTION,
                "courier.ws.send.buffer.bytes",
                "16384");
        try (TestServer server = TestServer.start(config)) {
            String token = server.setUp(TestServer.uniqueAudience(), "firehose");
            List<WsWire> stalled = new ArrayList<>();
            try (WsClient reader = WsClient.connect(server.http(), server.wsUrl(server.sign(token)));
                    Peak queued = Peak.watch(() -> server.server().hub().outboundQueuedBytes())) {
                assertEquals("connected", get(reader.next(), "action"));
                reader.send("{\"action\":\"subscribe\",\"topic\":\"firehose\",\"id\":1}");
                assertEquals("ack", get(reader.next(), "action"));
                for (int i = 0; i < STALLED; i++) {
                    // Never read: a 16 KiB receive buffer, and the server's 16 KiB send buffer, fill at once.
                    WsWire s = WsWire.open(
                            server.port(), "/ws?token=" + server.sign(token), Duration.ofSeconds(10), 16384);
                    stalled.add(s);
                    s.writeFrame(
                            0x1, "{\"action\":\"subscribe\",\"topic\":\"firehose\"}".getBytes(StandardCharsets.UTF_8));
                }
                Await.until(() -> server.server().hub().subscriptions() == 1 + STALLED, "all subscribed");

                // The stalled subscribers take about 48 KiB each a publish, so the budget is passed
                // within about 30; each round of cut-offs takes the grace (500 ms) and the close grace (2 s).
                int published = 0;
                while (server.server().hub().subscriptions() > 1 && published < 3000) {
                    assertEquals(
                            200,
                            server.post(
                                            "/v1/hook",
                                            token,
                                            "{\"action\":\"publish\",\"topic\":\"firehose\",\"message\":{\"i\":"
                                                    + published + ",\"pad\":\"" + PAD + "\"}}")
                                    .statusCode());
                    assertEquals(
                            String.valueOf(published),
                            get(reader.next(), "message.i"),
                            "the reader receives every acknowledged message, in order");
                    published++;
                }
                Await.until(
                        () -> server.server().hub().connections() == 1,
                        Duration.ofSeconds(30),
                        "every stalled subscriber is cut off after " + published + " publishes");
                assertEquals(
                        STALLED,
                        value(
                                server.server().metrics().registry().scrape(),
                                "courier_connections_closed_total{reason=\"slow_consumer\"}"),
                        "the stalled subscribers, and only they, are closed as slow consumers");
                assertEquals(1, server.server().hub().subscriptions(), "the reader is still subscribed");

                // One publish in hand per event loop for each subscriber may pass the budget before
                // the drain stops, doubled for two loops that size their allowances at the same
                // instant, and each loop's allowance floor of 1/256 of the budget.
                int loops = server.server().config().ioThreads();
                long margin = 2L * loops * (1 + STALLED) * (PAD.length() + 256) + loops * (BUDGET / 256);
                assertTrue(
                        queued.max() <= BUDGET + margin,
                        "the outbound bytes the budget saw peaked at " + queued.max() + " (budget " + BUDGET
                                + " + margin " + margin + ")");
                assertTrue(queued.max() > BUDGET * 3 / 4, "the budget was reached: " + queued.max());
            }
            for (WsWire s : stalled) {
                // What the kernels held still arrives, and the close frame too if it fitted there.
                WsWire.Drained drained = s.drain();
                if (drained.closeCode() != null) {
                    assertEquals(1008, drained.closeCode(), "close code");
                    assertEquals("server outbound budget", drained.closeReason(), "close reason");
                }
                s.close();
            }
        }
    }

    /**
     * Readers that keep reading are never cut off by the budget, however far a burst passes it:
     * 1,000 publishes of 8 KB to each of at least four readers, against a 512 KiB budget (16 KiB
     * send buffers, so that the readers' unsent bytes pile up in the server, where the budget sees them).
     */
    @Test
    void burstFarPastTheBudgetReachesEveryReaderAndCutsNobody() {
        long budget = 512 * 1024;
        try (TestServer server = TestServer.start(Map.of(
                        "courier.ws.outbound.max.bytes",
                        String.valueOf(budget),
                        "courier.ws.slow.consumer.bytes",
                        PER_CONNECTION,
                        "courier.ws.send.buffer.bytes",
                        "16384"));
                Peak queued = Peak.watch(() -> server.server().hub().outboundQueuedBytes())) {
            BurstIT.burstReachesEveryReader(server, 1000, 8_000);
            assertEquals(
                    0.0,
                    value(
                            server.server().metrics().registry().scrape(),
                            "courier_connections_closed_total{reason=\"slow_consumer\"}"),
                    "nobody was cut off");
            assertTrue(
                    queued.max() > budget * 3 / 4,
                    "the readers fell behind past the low-water mark, so the budget held the fan-out: peak "
                            + queued.max());
        }
    }

    /** The largest value a reading took, polled every millisecond on a thread of its own until closed. */
    private static final class Peak implements AutoCloseable {
        private final AtomicLong max = new AtomicLong();
        private final Thread poller;
        private volatile boolean stop;

        private Peak(LongSupplier reading) {
            poller = new Thread(
                    () -> {
                        while (!stop) {
                            max.accumulateAndGet(reading.getAsLong(), Math::max);
                            try {
                                Thread.sleep(1);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "peak-poller");
            poller.setDaemon(true);
        }

        static Peak watch(LongSupplier reading) {
            Peak p = new Peak(reading);
            p.poller.start();
            return p;
        }

        long max() {
            return max.get();
        }

        @Override
        public void close() {
            stop = true;
            try {
                poller.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
