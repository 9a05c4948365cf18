package io.courier.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import io.courier.testing.Await;
import io.courier.testing.HaProxy;
import io.courier.testing.JsonField;
import io.courier.testing.RemoteApi;
import io.courier.testing.ServerProcess;
import io.courier.testing.TcpProxy;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Courier nodes behind Debian's HAProxy running the shipped {@code config/haproxy.cfg} (see {@link
 * HaProxy}), {@code send-proxy-v2} on as shipped: each node in its own JVM, a real cluster (one NATS
 * of the test's own, one PostgreSQL namespace, the shared JWT and connection-key secrets, the PROXY
 * protocol on; see {@link ProcessCluster}), clients going through HAProxy only, as browsers would.
 * The audience and topic are created on the first node before the others start (they load the
 * catalogue at start).
 */
class LoadBalancerIT {
    private static final String TOPIC = "system/events";
    /** HAProxy checks every 2 s and needs 2 results to change a state: 4 s, plus check timeouts and slack. */
    private static final Duration STATE_CHANGE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeLast = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final TokenIssuer issuer = issuer();
    private final String audience = TestServer.uniqueAudience();
    private int balancerPort;
    private ProcessCluster cluster;

    @BeforeEach
    void requireHaProxy() {
        HaProxy.binary(); // fails, never skips, when HAProxy is missing
        balancerPort = HaProxy.freePort();
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (int i = closeLast.size() - 1; i >= 0; i--) {
            closeLast.get(i).close();
        }
    }

    @Test
    void shippedConfigIsValid() throws IOException {
        HaProxy.Check shipped = HaProxy.check(HaProxy.SHIPPED_CONFIG);
        assertEquals(0, shipped.exitStatus(), shipped.output());
        assertFalse(shipped.output().contains("[WARNING]"), shipped.output());
        assertFalse(shipped.output().contains("[ALERT]"), shipped.output());
        // What the docs promise of the shipped file, and the derived test configuration is valid too.
        String text = HaProxy.shippedConfig();
        for (String directive : List.of(
                "mode http",
                "balance leastconn",
                "option httpchk GET /readyz",
                "http-check expect status 200",
                "default-server check inter 2s fall 2 rise 2",
                "timeout tunnel 1h",
                "timeout client-fin 30s",
                "bind 127.0.0.1:8404")) {
            assertTrue(text.contains("\n    " + directive + "\n"), "config/haproxy.cfg lacks: " + directive);
        }
        assertEquals(
                3,
                text.lines()
                        .filter(l -> l.matches("\\s+server node\\d 127\\.0\\.0\\.1:888\\d send-proxy-v2"))
                        .count(),
                "three server lines sending the PROXY protocol");
        for (boolean sendProxy : List.of(true, false)) {
            Path derived = Files.writeString(
                    dir.resolve("derived-" + sendProxy + ".cfg"),
                    HaProxy.derive(text, 18080, 18404, List.of(18881, 18882), sendProxy));
            String derivedText = Files.readString(derived);
            assertEquals(
                    sendProxy ? 2 : 0,
                    derivedText
                            .lines()
                            .filter(l -> l.strip().startsWith("server ") && l.endsWith(" send-proxy-v2"))
                            .count(),
                    derivedText);
            assertTrue(derivedText.contains("\n    server node2 127.0.0.1:18882"), derivedText);
            HaProxy.Check check = HaProxy.check(derived);
            assertEquals(0, check.exitStatus(), check.output());
        }
    }

    /**
     * Three live nodes; a client connected through HAProxy loses its node to SIGKILL. Acting like a
     * browser client (reconnect with back-off, a fresh signed key through HAProxy, resubscribe) it
     * lands on another node and receives every hook publish sent through HAProxy afterwards, whichever
     * node HAProxy hands each one to (the cluster's fan-out), as does a client that never moved.
     */
    @Test
    void clientOfAKilledNodeReconnectsThroughHaProxyAndReceivesLaterPublishes() {
        List<ServerProcess> nodes = startNodes(3, Map.of());
        HaProxy haProxy = startHaProxy(nodes);
        RemoteApi api = new RemoteApi(haProxy.port(), TestServer.SECRET, dir);

        WsClient client = connectAndSubscribe(api, 1);
        int landed = awaitTheNodeHolding(nodes, 1);
        // leastconn: the next client goes to a node holding none, so it stays connected through the kill.
        WsClient bystander = connectAndSubscribe(api, 1);
        ServerProcess victim = nodes.get(landed);

        victim.kill();
        assertTrue(client.closeCode() != 1000, "the connection broke with its node");
        client.close();
        assertFalse(bystander.isClosed(), "the other node's client is unaffected");

        WsClient again = reconnectWithBackOff(api);
        assertEquals(
                2.0,
                connections(nodes.get((landed + 1) % 3)) + connections(nodes.get((landed + 2) % 3)),
                "both clients are on the surviving nodes");

        // Several publishes so that HAProxy (leastconn per request) spreads them over both survivors.
        int count = 6;
        for (int i = 0; i < count; i++) {
            HttpResponse<String> published = api.post(
                    "/v1/hook",
                    token(),
                    "{\"action\":\"publish\",\"topic\":\"" + TOPIC + "\",\"message\":{\"after\":" + i + "}}");
            assertEquals(200, published.statusCode(), published.body());
        }
        // Each hook call may land on another node, so the calls are publishers of their own: order
        // holds per publishing node (ClusterFanoutIT), not across nodes; every one arrives once.
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < count; i++) {
            expected.add("{\"action\":\"publish\",\"topic\":\"" + TOPIC + "\",\"message\":{\"after\":" + i + "}}");
        }
        for (WsClient c : List.of(again, bystander)) {
            Set<String> got = new HashSet<>();
            for (int i = 0; i < count; i++) {
                assertTrue(got.add(c.next()), "no duplicate");
            }
            assertEquals(expected, got);
            assertNull(c.poll(Duration.ofMillis(200)), "no duplicate");
        }
        again.close();
        bystander.close();
    }

    /**
     * A node that is alive but answers {@code /readyz} with 503 (its database is unreachable) is taken
     * out of rotation by HAProxy's HTTP health check, so every new connection goes to the healthy
     * node; once it is ready again HAProxy puts it back, and leastconn sends it the next connection.
     */
    @Test
    void nodeThatIsNotReadyLeavesRotationAndComesBack() {
        assumeTrue(TestPostgres.url().isPresent(), TestPostgres::skipReason);
        TcpProxy database = new TcpProxy("127.0.0.1", TestPostgres.port());
        closeLast.add(database);
        List<ServerProcess> nodes =
                startNodes(2, Map.of(0, Map.of("COURIER_DATABASE_URL", TestPostgres.viaPort(database.port()))));
        HaProxy haProxy = startHaProxy(nodes);
        RemoteApi api = new RemoteApi(haProxy.port(), TestServer.SECRET, dir);
        String sick = HaProxy.serverName(0);

        database.cut();
        Await.until(() -> status(nodes.get(0), "/readyz") == 503, "node1 /readyz answers 503");
        haProxy.awaitState(sick, "DOWN", STATE_CHANGE);
        assertEquals(200, status(nodes.get(0), "/healthz"), "node1 is alive: it is out for readiness only");

        int clients = 4;
        List<WsClient> connected = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            connected.add(connectAndSubscribe(api, 1));
        }
        assertEquals(0.0, connections(nodes.get(0)), "connections on the node that is not ready");
        assertEquals((double) clients, connections(nodes.get(1)), "connections on the healthy node");

        database.restore();
        haProxy.awaitState(sick, "UP", STATE_CHANGE);
        // leastconn: node1 holds 0 connections, node2 holds 4, so the next one goes to node1.
        connected.add(connectAndSubscribe(api, 1));
        assertEquals(1.0, connections(nodes.get(0)), "node1 back in rotation");
        connected.forEach(WsClient::close);
    }

    // ---------------------------------------------------------------- nodes and clients

    /**
     * Starts {@code count} cluster nodes one after the other, the PROXY protocol on and /v1/sign
     * handing out the balancer; the audience and topic are created on the first before the others
     * start. {@code extraEnv} adds variables per node index.
     */
    private List<ServerProcess> startNodes(int count, Map<Integer, Map<String, String>> extraEnv) {
        cluster = ProcessCluster.start(
                dir,
                Map.of("COURIER_WS_URL", "ws://127.0.0.1:" + balancerPort + "/ws", "COURIER_PROXY_PROTOCOL", "true"));
        closeLast.add(cluster);
        for (int i = 0; i < count; i++) {
            ServerProcess node = cluster.startNode(extraEnv.getOrDefault(i, Map.of()));
            if (i == 0) {
                cluster.setUp(0, audience, TOPIC);
            }
        }
        return cluster.nodes();
    }

    private HaProxy startHaProxy(List<ServerProcess> nodes) {
        HaProxy haProxy = HaProxy.start(
                dir.resolve("haproxy"),
                balancerPort,
                nodes.stream().map(ServerProcess::port).toList());
        closeLast.add(haProxy);
        for (int i = 0; i < nodes.size(); i++) {
            haProxy.awaitState(HaProxy.serverName(i), "UP", STATE_CHANGE);
        }
        return haProxy;
    }

    /** Signs through HAProxy, connects through HAProxy, subscribes and waits for the ack. */
    private WsClient connectAndSubscribe(RemoteApi api, int id) {
        String url = JsonField.get(signResponse(api), "url");
        assertTrue(
                url.startsWith("ws://127.0.0.1:" + balancerPort + "/ws?"), "/v1/sign hands out the balancer: " + url);
        WsClient client = WsClient.connect(http, url);
        try {
            assertEquals("connected", JsonField.get(client.next(), "action"));
            client.send("{\"action\":\"subscribe\",\"topic\":\"" + TOPIC + "\",\"id\":" + id + "}");
            assertEquals("{\"action\":\"ack\",\"id\":" + id + "}", client.next());
            return client;
        } catch (RuntimeException | AssertionError e) {
            client.close();
            throw e;
        }
    }

    private String signResponse(RemoteApi api) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancerPort + "/v1/sign"))
                .header("Authorization", "Bearer " + token())
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build();
        try {
            HttpResponse<String> r = api.http().send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET /v1/sign through haproxy: " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * What a browser client does when its socket breaks: try again after 100 ms, doubling up to 2 s,
     * each time with a fresh key from /v1/sign and a new subscription, for at most 30 s.
     */
    private WsClient reconnectWithBackOff(RemoteApi api) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long backOffMillis = 100;
        List<Throwable> failures = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            try {
                return connectAndSubscribe(api, 2);
            } catch (AssertionError | RuntimeException e) {
                failures.add(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            }
            pause(backOffMillis);
            backOffMillis = Math.min(backOffMillis * 2, 2000);
        }
        throw new AssertionError("no reconnect through haproxy within 30 s; failures: " + failures);
    }

    /** The index of the one node holding {@code expected} WebSockets while the others hold none. */
    private int awaitTheNodeHolding(List<ServerProcess> nodes, int expected) {
        int[] found = {-1};
        Await.until(
                () -> {
                    double total = 0;
                    for (int i = 0; i < nodes.size(); i++) {
                        double open = connections(nodes.get(i));
                        total += open;
                        if (open == expected) {
                            found[0] = i;
                        }
                    }
                    return total == expected && found[0] >= 0;
                },
                "one node holds the client's socket");
        return found[0];
    }

    private double connections(ServerProcess node) {
        return cluster.connections(node);
    }

    private int status(ServerProcess node, String path) {
        return cluster.request(node, "GET", path, null, null).status();
    }

    private String token() {
        return issuer.issue(audience, Optional.of("user-1"), Duration.ofHours(1));
    }

    private TokenIssuer issuer() {
        Config config = ConfigLoader.load(
                Optional.empty(),
                Map.of(),
                Map.of("courier.jwt.secret", TestServer.SECRET, "courier.data.dir", "unused"));
        return new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()));
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis); // the client's back-off between attempts, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
