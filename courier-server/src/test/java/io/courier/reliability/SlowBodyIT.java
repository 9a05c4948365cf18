package io.courier.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.HttpWire;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.netty.util.internal.PlatformDependent;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Slow request bodies, the attack of issue 10: clients that send a head and most of a 64 KiB body,
 * then wait. Unauthenticated ones are refused from their head and hold nothing; authenticated ones
 * reserve their size from {@code courier.http.max.buffered.bytes}, and past it a new body gets 503
 * EOVERLOADED while the admitted ones finish normally. Throughout, {@code /healthz} answers and a
 * subscriber receives hook publishes. Waits are generous: this is about availability, not speed.
 */
class SlowBodyIT {
    private static final int BODY_BYTES = 65536;
    /** Sent of each slow body: all but its last 36 bytes, as in the reproduction. */
    private static final int SENT_BYTES = 65500;

    private static final int ADMITTED = 4;
    /** Four full bodies and room for the small hook publishes that prove the server still works. */
    private static final long BUDGET = (long) ADMITTED * BODY_BYTES + 8192;

    private static final int ATTACKERS = 300;
    /**
     * Direct memory the server may hold above its idle level during the attack, on top of the
     * budget: read buffers of the connections being served and the allocator's chunk granularity.
     * Before the fix the 300 bodies alone held about 300 × 64 KiB = 19 MiB.
     */
    private static final long SLACK = 8L << 20;

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final CourierExtension server = CourierExtension.with(Map.of(
            "courier.http.max.body.bytes", Integer.toString(BODY_BYTES),
            "courier.http.max.buffered.bytes", Long.toString(BUDGET),
            // The attackers must outlive the test's checks: only the fix may end them early.
            "courier.http.request.timeout.seconds", "120"));

    @Test
    void unauthenticatedBodyIsRefusedFromItsHead() {
        try (HttpWire wire = new HttpWire(server.port(), Duration.ofSeconds(10))) {
            wire.send(head("/v1/hook", null, BODY_BYTES) + "{\"action\":");

            HttpWire.Response response = wire.read();

            assertEquals(401, response.status(), response.toString());
            assertEquals("ETOKEN_INVALID", JsonField.get(response.body(), "error.code"));
            assertEquals("close", response.header("Connection").orElse(""));
            wire.send(new byte[BODY_BYTES - 10]);
            assertTrue(wire.awaitClose(Duration.ofSeconds(10)), "closed once the discarded body ended");
        }
    }

    @Test
    void unauthenticatedSlowBodiesHoldNoMemoryAndTheServerKeepsServing() throws Exception {
        String token = server.setUp(TestServer.uniqueAudience(), "news");
        List<HttpWire> attackers = new ArrayList<>();
        DirectMemoryWatch memory = new DirectMemoryWatch();
        try (WsClient subscriber = server.connect(token)) {
            subscribe(subscriber);
            memory.start();
            byte[] partial = new byte[SENT_BYTES];
            for (int i = 0; i < ATTACKERS; i++) {
                HttpWire wire = new HttpWire(server.port(), WAIT);
                attackers.add(wire);
                wire.send(head("/v1/hook", null, BODY_BYTES));
                wire.send(partial);
            }
            long slowestHealth = checkServing(token, subscriber, 10);
            memory.stop();
            System.out.printf(
                    "unauthenticated slow bodies: %d connections, direct memory above idle peaked at %d KiB "
                            + "(budget %d KiB), slowest /healthz %d ms%n",
                    ATTACKERS, memory.peakAboveIdle() >> 10, BUDGET >> 10, slowestHealth);
            assertTrue(
                    memory.peakAboveIdle() <= BUDGET + SLACK,
                    "direct memory rose by " + memory.peakAboveIdle() + " bytes during the attack (allowed: budget "
                            + BUDGET + " + slack " + SLACK + ")");
            for (HttpWire wire : attackers) {
                HttpWire.Response response = wire.read();
                assertEquals(401, response.status(), response.toString());
            }
        } finally {
            attackers.forEach(HttpWire::close);
        }
    }

    @Test
    void authenticatedSlowBodiesShareTheBudgetAndTheRestAreOverloaded() throws Exception {
        String token = server.setUp(TestServer.uniqueAudience(), "news");
        double refusedBefore = overloadedCount();
        List<HttpWire> admitted = new ArrayList<>();
        DirectMemoryWatch memory = new DirectMemoryWatch();
        try (WsClient subscriber = server.connect(token)) {
            subscribe(subscriber);
            memory.start();
            byte[] body = hookBody(BODY_BYTES);
            for (int i = 0; i < ADMITTED; i++) {
                HttpWire wire = new HttpWire(server.port(), WAIT);
                admitted.add(wire);
                wire.send(head("/v1/hook", token, BODY_BYTES));
                wire.send(Arrays.copyOf(body, SENT_BYTES));
                long expected = (long) (i + 1) * BODY_BYTES;
                Await.until(() -> bufferedBytes() == expected, WAIT, "body " + (i + 1) + " admitted");
            }
            int refused = 6;
            for (int i = 0; i < refused; i++) {
                try (HttpWire wire = new HttpWire(server.port(), WAIT)) {
                    wire.send(head("/v1/hook", token, BODY_BYTES));
                    wire.send(Arrays.copyOf(body, SENT_BYTES));
                    HttpWire.Response response = wire.read();
                    assertEquals(503, response.status(), response.toString());
                    assertEquals("EOVERLOADED", JsonField.get(response.body(), "error.code"));
                    assertTrue(wire.awaitClose(WAIT), "the refused connection is closed");
                }
            }
            long slowestHealth = checkServing(token, subscriber, 5);
            memory.stop();
            System.out.printf(
                    "authenticated slow bodies: %d admitted, %d refused, direct memory above idle peaked at %d KiB "
                            + "(budget %d KiB), slowest /healthz %d ms%n",
                    ADMITTED, refused, memory.peakAboveIdle() >> 10, BUDGET >> 10, slowestHealth);
            assertTrue(
                    memory.peakAboveIdle() <= BUDGET + SLACK,
                    "direct memory rose by " + memory.peakAboveIdle() + " bytes");
            assertEquals(
                    refused,
                    overloadedCount() - refusedBefore,
                    0.0,
                    "courier_messages_refused_total{code=EOVERLOADED}");

            // The admitted bodies were not harmed: they finish and are published.
            for (HttpWire wire : admitted) {
                wire.send(Arrays.copyOfRange(body, SENT_BYTES, BODY_BYTES));
                assertEquals(200, wire.read().status());
                assertEquals("big", JsonField.get(subscriber.next(), "message.kind"));
            }
            Await.until(() -> bufferedBytes() == 0, WAIT, "every reservation released");
            // And a fresh body of the same size is admitted again.
            HttpResponse<String> fresh = server.post("/v1/hook", token, new String(body, StandardCharsets.US_ASCII));
            assertEquals(200, fresh.statusCode(), fresh.body());
        } finally {
            admitted.forEach(HttpWire::close);
        }
    }

    /** Hook publishes reach the subscriber and /healthz answers; returns the slowest /healthz in ms. */
    private static long checkServing(String token, WsClient subscriber, int rounds) {
        long slowest = 0;
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            HttpResponse<String> health =
                    server.send(HttpRequest.newBuilder(server.uri("/healthz")).GET(), null);
            slowest = Math.max(
                    slowest, Duration.ofNanos(System.nanoTime() - start).toMillis());
            assertEquals(200, health.statusCode(), "/healthz during the attack");
            String body = "{\"action\":\"publish\",\"topic\":\"news\",\"message\":{\"n\":" + i + "}}";
            assertEquals(200, server.post("/v1/hook", token, body).statusCode(), "hook during the attack");
            assertEquals(Integer.toString(i), JsonField.get(subscriber.next(), "message.n"));
        }
        return slowest;
    }

    private static void subscribe(WsClient subscriber) {
        subscriber.send("{\"action\":\"subscribe\",\"topic\":\"news\",\"id\":1}");
        assertEquals("ack", JsonField.get(subscriber.next(), "action"));
    }

    private static String head(String path, String token, int length) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + "Content-Length: " + length + "\r\n\r\n";
    }

    /** A hook publish of exactly {@code size} bytes. */
    private static byte[] hookBody(int size) {
        String prefix = "{\"action\":\"publish\",\"topic\":\"news\",\"message\":{\"kind\":\"big\",\"pad\":\"";
        String suffix = "\"}}";
        return (prefix + "x".repeat(size - prefix.length() - suffix.length()) + suffix)
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static long bufferedBytes() {
        return (long) server.server()
                .metrics()
                .registry()
                .get("courier.http.buffered")
                .gauge()
                .value();
    }

    private static double overloadedCount() {
        return server.server()
                .metrics()
                .registry()
                .get("courier.messages.refused")
                .tag("code", "EOVERLOADED")
                .counter()
                .count();
    }

    /** Samples Netty's count of direct memory (server and this JVM share it) from a background thread. */
    private static final class DirectMemoryWatch {
        private final AtomicBoolean running = new AtomicBoolean();
        private final AtomicLong peak = new AtomicLong();
        private long idle;
        private Thread sampler;

        void start() {
            idle = PlatformDependent.usedDirectMemory();
            peak.set(idle);
            running.set(true);
            sampler = new Thread(
                    () -> {
                        while (running.get()) {
                            peak.accumulateAndGet(PlatformDependent.usedDirectMemory(), Math::max);
                            Thread.onSpinWait();
                            try {
                                Thread.sleep(5); // sampling period, not synchronisation
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "direct-memory-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            sampler.join(10_000);
            peak.accumulateAndGet(PlatformDependent.usedDirectMemory(), Math::max);
        }

        long peakAboveIdle() {
            return peak.get() - idle;
        }
    }
}
