package io.courier.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.RemoteApi;
import io.courier.testing.ServerProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Direct memory runs out and the event loops go on. The body budget normally keeps request bodies
 * far from the limit; here it is set out of the way (1 GiB) and the server's JVM gets 24 MiB of
 * direct memory, so 400 authenticated 64 KiB bodies (about 26 MB) must hit the limit. The failing
 * connections are closed; {@code /healthz} on fresh connections keeps answering throughout and the
 * hook works afterwards.
 *
 * <p>Before {@code io.courier.DirectMemory}, every failed allocation blocked its event loop for
 * 0.5-0.8 s in {@code java.nio.Bits.reserveMemory}, and the loops stayed frozen for as long as the
 * attackers kept sending. The bound on each {@code /healthz} is generous (it means "frozen", not
 * "slow"): measured here it answers in milliseconds.
 */
class DirectMemoryExhaustionIT {
    private static final String SECRET = "direct-memory-test-secret-0123456789abcdef";
    private static final int ATTACKERS = 400;
    private static final int DECLARED = 65_536;
    private static final int SENT = 65_500;
    private static final Duration HEALTH_BOUND = Duration.ofSeconds(10);

    @Test
    void exhaustedDirectMemoryFailsOnlyTheConnectionsThatAskedForIt(@TempDir Path dir) throws Exception {
        Map<String, String> env = Map.of(
                "COURIER_DATA_DIR",
                dir.toString(),
                "COURIER_JWT_SECRET",
                SECRET,
                "COURIER_HTTP_MAX_BUFFERED_BYTES",
                String.valueOf(1L << 30),
                "COURIER_HTTP_REQUEST_TIMEOUT_SECONDS",
                "120");
        try (ServerProcess server =
                ServerProcess.start(env, dir.resolve("server.log"), List.of("-XX:MaxDirectMemorySize=24m"))) {
            assertTrue(server.log().contains("direct=netty"), "Netty accounts direct memory itself:\n" + server.log());
            RemoteApi api = new RemoteApi(server.port(), SECRET, dir);
            String token = api.setUp("direct-memory.example.com");
            HttpClient http =
                    HttpClient.newBuilder().connectTimeout(HEALTH_BOUND).build();
            long slowestHealthMillis = health(http, server.port());

            List<Socket> attackers = new ArrayList<>();
            ExecutorService senders = Executors.newFixedThreadPool(8);
            try {
                byte[] head = ("POST /v1/hook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                                + "\r\nContent-Type: application/json\r\nContent-Length: " + DECLARED + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                byte[] body = new byte[SENT];
                Arrays.fill(body, (byte) ' ');
                for (int i = 0; i < ATTACKERS; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
                    attackers.add(s);
                    senders.execute(() -> send(s, head, body));
                    if (i % 50 == 49) {
                        slowestHealthMillis = Math.max(slowestHealthMillis, health(http, server.port()));
                    }
                }
                senders.shutdown();
                assertTrue(
                        senders.awaitTermination(60, TimeUnit.SECONDS), "the attackers' writes end (sent or refused)");
                for (int i = 0; i < 5; i++) {
                    slowestHealthMillis = Math.max(slowestHealthMillis, health(http, server.port()));
                }
                // The attackers' writes may all sit in the kernel's socket buffers when they end: on a
                // busy machine the server reads them later. Wait for it while the sockets are still
                // open (closing them discards what was not read).
                Await.until(
                        () -> server.log().contains("OutOfDirectMemoryError"),
                        Duration.ofSeconds(30),
                        "the server to read the attack and exhaust direct memory");
            } finally {
                for (Socket s : attackers) {
                    s.close();
                }
            }
            System.out.printf(
                    "DirectMemoryExhaustionIT: slowest /healthz during the attack %d ms%n", slowestHealthMillis);
            assertTrue(
                    server.log().contains("OutOfDirectMemoryError"),
                    "the attack exhausted direct memory, and Netty's accounting (not the JDK's blocking one) refused it:\n"
                            + tail(server.log()));
            HttpResponse<String> publish =
                    api.post("/v1/hook", token, "{\"action\":\"broadcast\",\"message\":{\"after\":true}}");
            assertEquals(200, publish.statusCode(), publish.body());
            assertTrue(server.log().lines().noneMatch(l -> l.contains("level=ERROR")), tail(server.log()));
        }
    }

    private static void send(Socket s, byte[] head, byte[] body) {
        try {
            OutputStream out = s.getOutputStream();
            out.write(head);
            out.write(body);
            out.flush();
        } catch (IOException closedByTheServer) {
            // A connection whose allocation failed is closed: that is the expected outcome for some.
        }
    }

    /** Milliseconds for a {@code GET /healthz} on a fresh connection; fails past {@link #HEALTH_BOUND}. */
    private static long health(HttpClient http, int port) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                        .timeout(HEALTH_BOUND)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private static String tail(String log) {
        return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
    }
}
