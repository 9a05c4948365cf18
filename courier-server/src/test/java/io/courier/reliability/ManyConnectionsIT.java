package io.courier.reliability;

import static io.courier.testing.PrometheusText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.RemoteApi;
import io.courier.testing.ServerProcess;
import io.courier.testing.WsCrowd;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 concurrent WebSocket connections to one audience complete their handshakes, and one
 * broadcast reaches each of them exactly once; the server's heap per connection is reported.
 *
 * <p>The server runs in its own JVM ({@link ServerProcess}, {@code -Xmx256m}) so that each end holds
 * its own 10,000 descriptors under the machine's limit of 20,000 per process. The clients are a
 * {@link WsCrowd}: Netty on 2 event loops with at most 200 handshakes in flight, a few dozen bytes of
 * state per connection of its own (the JDK client would cost a selector and about 100 KB per socket).
 * Signed keys live 10 minutes here ({@code COURIER_SIGN_TTL_SECONDS}) so that a slow machine cannot
 * outlast the one key every connection uses.
 *
 * <p>Heap per connection is {@code jcmd GC.run} + {@code GC.heap_info} with every connection open
 * minus the same before the first, divided by the connections: the measure of
 * {@code scripts/bench load connections}. It is printed, not asserted, beyond a sanity bound of
 * 16 KiB (measured: about 2.8 KB). {@code -Dcourier.connections=N} changes the count.
 */
class ManyConnectionsIT {
    private static final String SECRET = "many-connections-test-secret-0123456789abcdef";
    private static final int CONNECTIONS = Integer.getInteger("courier.connections", 10_000);
    private static final int IN_FLIGHT = 200;
    private static final int EVENT_LOOPS = 2;
    private static final long HEAP_PER_CONNECTION_BOUND = 16 * 1024;
    /** Bounds, not expectations: opening took 9-17 s here, delivery 1.5-4 s (the client runs the leak detector). */
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(60);

    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);
    /** How long nothing more may arrive once every connection has its broadcast. */
    private static final Duration QUIET = Duration.ofSeconds(2);

    @Test
    void tenThousandConnectionsEachReceiveOneBroadcastExactlyOnce(@TempDir Path dir) {
        Map<String, String> env = Map.of(
                "COURIER_DATA_DIR", dir.toString(), "COURIER_JWT_SECRET", SECRET, "COURIER_SIGN_TTL_SECONDS", "600");
        try (ServerProcess server = ServerProcess.start(env, dir.resolve("server.log"))) {
            RemoteApi api = new RemoteApi(server.port(), SECRET, dir);
            String token = api.setUp("many-connections.example.com");
            String key = api.sign(token);
            long heapBefore = server.heapUsedAfterGc();

            try (WsCrowd crowd = new WsCrowd(server.port(), CONNECTIONS, EVENT_LOOPS)) {
                long started = System.nanoTime();
                crowd.open(key, CONNECTIONS, IN_FLIGHT, OPEN_TIMEOUT);
                Duration opening = Duration.ofNanos(System.nanoTime() - started);
                for (int i = 0; i < CONNECTIONS; i++) {
                    assertEquals(1, crowd.connectedFrames(i), "connection " + i + ": one connected frame");
                }
                String open = api.scrape();
                assertEquals(CONNECTIONS, value(open, "courier_connections"), "the server holds every connection");
                assertEquals(CONNECTIONS, value(open, "courier_connections_opened_total"));

                long heapWith = server.heapUsedAfterGc();
                long perConnection = (heapWith - heapBefore) / CONNECTIONS;
                System.out.printf(
                        "ManyConnectionsIT: %d handshakes in %d ms (%d in flight)%n",
                        CONNECTIONS, opening.toMillis(), IN_FLIGHT);
                System.out.printf(
                        "heap per connection: %d bytes (server heap %d KiB before, %d KiB with %d connections, after GC.run)%n",
                        perConnection, heapBefore / 1024, heapWith / 1024, CONNECTIONS);
                assertTrue(
                        perConnection > 0 && perConnection < HEAP_PER_CONNECTION_BOUND,
                        "heap per connection " + perConnection + " bytes (sanity bound: 0 < x < "
                                + HEAP_PER_CONNECTION_BOUND + ")");

                broadcastOnce(api, token, crowd);

                String after = api.scrape();
                assertEquals(
                        CONNECTIONS,
                        value(after, "courier_deliveries_total") - value(open, "courier_deliveries_total"),
                        "the server handed out one frame per connection");
                assertEquals(CONNECTIONS, value(after, "courier_connections"), "no connection dropped");
                assertEquals(0, crowd.lostConnections(), "no connection dropped");
            }
            Await.until(
                    () -> value(api.scrape(), "courier_connections") == 0,
                    Duration.ofSeconds(30),
                    "the server sees every connection closed");
            assertTrue(
                    server.log().lines().noneMatch(l -> l.contains("level=ERROR") || l.contains("OutOfMemoryError")),
                    server.log());
        }
    }

    private static void broadcastOnce(RemoteApi api, String token, WsCrowd crowd) {
        String message = "{\"run\":\"" + UUID.randomUUID() + "\",\"n\":1}";
        crowd.expect("{\"action\":\"broadcast\",\"message\":" + message + "}");
        long sent = System.nanoTime();
        HttpResponse<String> r = api.post("/v1/hook", token, "{\"action\":\"broadcast\",\"message\":" + message + "}");
        assertEquals(200, r.statusCode(), r.body());
        Await.until(
                () -> crowd.expectedTotal() >= CONNECTIONS,
                DELIVERY_TIMEOUT,
                "every connection receives the broadcast");
        long deliveredMillis = Duration.ofNanos(System.nanoTime() - sent).toMillis();
        Await.holds(
                () -> crowd.expectedTotal() == CONNECTIONS,
                QUIET,
                "nothing more than one broadcast per connection arrives");

        int none = 0;
        int twice = 0;
        int unexpected = 0;
        for (int i = 0; i < CONNECTIONS; i++) {
            int got = crowd.expectedFrames(i);
            none += got == 0 ? 1 : 0;
            twice += got > 1 ? 1 : 0;
            unexpected += crowd.unexpectedFrames(i);
        }
        System.out.printf(
                "ManyConnectionsIT: broadcast received by all %d connections within %d ms of the hook call%n",
                CONNECTIONS, deliveredMillis);
        assertEquals(0, none, "connections that never received the broadcast");
        assertEquals(0, twice, "connections that received it more than once");
        assertEquals(0, unexpected, "unexpected frames, first: " + crowd.unexpectedSamples());
    }
}
