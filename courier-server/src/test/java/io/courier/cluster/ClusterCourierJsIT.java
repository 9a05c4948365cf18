package io.courier.cluster;

import static io.courier.cluster.ClusterFixture.awaitCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.courier.testing.Await;
import io.courier.testing.Chromium;
import io.courier.testing.CourierPage;
import io.courier.testing.HaProxy;
import io.courier.testing.JsonField;
import io.courier.testing.TcpProxy;
import io.courier.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * courier.js in headless Chromium against a cluster (in-process nodes over the test's own
 * nats-server with JetStream and the shared PostgreSQL): a client whose node stops comes back
 * through Debian's HAProxy on another node and recovers exactly what it missed; a gap a node detects
 * (EHISTORY_GAP, close 3010) makes the client reconnect at once and recover; a history subscribe
 * refused while NATS is down is asked again until it is back.
 */
class ClusterCourierJsIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Every node opens the keys any node signs (courier.key.secret, at least 32 bytes). */
    private static final String KEY_SECRET = "key-secret-of-the-browser-cluster-test-0123456789";
    /**
     * A client whose {@code /v1/sign} calls wait while the gate is closed (the {@code fetch} option),
     * so the test decides when it reconnects; each message goes to {@code t.messages} and, to check
     * the order against the recovery event, to {@code t.events}.
     */
    private static final String GATED_CLIENT = """
            window.gate = null;
            window.closeGate = () => { let open; const held = new Promise((r) => (open = r)); window.gate = { held, open }; };
            window.openGate = () => { const g = window.gate; window.gate = null; if (g) g.open(); };
            const gated = async (...request) => { while (window.gate) await window.gate.held; return fetch(...request); };
            window.c = newClient({ fetch: gated });
            window.sub = c.subscribe(args[0], (m, meta) => {
              const seen = { n: m.n, offset: meta.offset, epoch: meta.epoch };
              t.messages.push(seen);
              t.events.push({ e: "message", v: seen });
            });
            await c.connect();
            await sub.ready;
            """;

    private static Chromium browser;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBrowser() {
        browser = Chromium.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    /**
     * Three nodes behind HAProxy; the page's API and every node's {@code courier.ws.url} are the
     * balancer. The browser's node stops (close 1001) and, while the client waits to reconnect,
     * another node publishes 5 messages; back through HAProxy on a surviving node, the application
     * is told {@code recovered: true} once, before the replay, then gets exactly the 5 missed
     * messages once, in order, then live ones.
     */
    @Test
    void reconnectedToAnotherNodeReceivesWhatItMissed() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            HaProxy.binary(); // fails, never skips, when HAProxy is missing
            int balancerPort = HaProxy.freePort();
            Map<String, String> behindBalancer = Map.of(
                    "courier.ws.url", "ws://127.0.0.1:" + balancerPort + "/ws", "courier.key.secret", KEY_SECRET);
            List<TestServer> nodes = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            for (String id : List.of("a", "b", "c")) {
                TestServer node = up(cluster.node(id, s -> s, behindBalancer));
                nodes.add(node);
                ports.add(node.port());
            }
            String token = historyTopic(nodes.get(0), "feed");
            try (HaProxy haProxy = HaProxy.start(dir.resolve("haproxy"), balancerPort, ports, false, "500ms")) {
                for (int i = 0; i < nodes.size(); i++) {
                    haProxy.awaitState(HaProxy.serverName(i), "UP", WAIT);
                }
                String balancer = "http://127.0.0.1:" + balancerPort;
                CourierPage page = CourierPage.load(
                        browser,
                        "http://localhost:" + balancerPort + "/healthz",
                        balancer + "/client/courier.js",
                        balancer);
                page.giveTokens(token);
                browser.run(GATED_CLIENT, "feed");
                String epoch = (String) browser.eval("return sub.position.epoch;");
                int holder = nodeHolding(nodes, List.of(0, 1, 2));
                TestServer publisher = nodes.get((holder + 1) % 3);

                List<Long> expected = new ArrayList<>();
                for (int n = 1; n <= 3; n++) {
                    expected.add(publish(publisher, token, n, epoch));
                }
                browser.until("t.messages.length === 3", WAIT, "the first three messages");
                assertEquals(expected, offsetsSeen());

                browser.eval("closeGate();");
                nodes.get(holder).close();
                browser.until("count('disconnected') === 1", WAIT, "the stopped node's close");
                assertEquals(1001L, browser.eval("return t.events.find(x => x.e === 'disconnected').v.code;"));
                haProxy.awaitState(HaProxy.serverName(holder), "DOWN", WAIT);
                long before = expected.get(2);
                for (int n = 4; n <= 8; n++) {
                    expected.add(publish(publisher, token, n, epoch)); // missed: the client waits at the gate
                }
                assertEquals(3L, browser.eval("return t.messages.length;"), "nothing arrives during the gap");
                assertEquals(1L, page.count("connected"), page.events());

                browser.eval("openGate();");
                browser.until("count('recovery') === 1", WAIT, "the verdict of the resubscribe with since");
                int landed = nodeHolding(nodes, List.of((holder + 1) % 3, (holder + 2) % 3));
                assertNotEquals(holder, landed);
                String recovery =
                        (String) browser.eval("return JSON.stringify(t.events.find(x => x.e === 'recovery').v);");
                assertEquals("true", JsonField.get(recovery, "recovered"), recovery);
                assertEquals(String.valueOf(before), JsonField.get(recovery, "since.offset"), recovery);
                assertEquals(epoch, JsonField.get(recovery, "since.epoch"), recovery);
                assertEquals(String.valueOf(expected.get(7)), JsonField.get(recovery, "position.offset"), recovery);
                assertEquals(epoch, JsonField.get(recovery, "position.epoch"), "one epoch on every node");
                browser.until("t.messages.length === 8", WAIT, "the five missed messages");
                assertEquals(expected, offsetsSeen(), "exactly the missed ones, once, in order");
                assertEquals(
                        List.of("recovery", "subscribed", "message"),
                        browser.eval("const i = t.events.findIndex(x => x.e === 'recovery');"
                                + " return t.events.slice(i, i + 3).map(x => x.e);"),
                        "the verdict, then the ack's subscribed, then the replay: " + page.events());
                assertEquals(1.0, recoveries(nodes.get(landed), "recovered"), "recovered by the node it landed on");

                // Live messages from the surviving node the client is not on: across nodes, as before.
                int other = landed == (holder + 1) % 3 ? (holder + 2) % 3 : (holder + 1) % 3;
                for (int n = 9; n <= 10; n++) {
                    expected.add(publish(nodes.get(other), token, n, epoch));
                }
                browser.until("t.messages.length === 10", WAIT, "the live messages after the recovery");
                assertEquals(expected, offsetsSeen(), "then the live ones, nothing twice");
                assertEquals(
                        LongStream.rangeClosed(1, 10).boxed().toList(),
                        browser.eval("return t.messages.map(x => x.n);"));
                assertEquals(List.of(epoch), browser.eval("return [...new Set(t.messages.map(x => x.epoch))];"));
                assertEquals(1L, page.count("recovery"), page.events());
                assertEquals(2L, page.count("connected"), page.events());
                browser.run("c.disconnect();");
            }
        }
    }

    /**
     * Node a loses its NATS link while b publishes to the topic the browser holds on a; when the link
     * is back, a finds the gap and tells the client (EHISTORY_GAP naming the topic, close 3010). The
     * client reconnects at once (no back-off), resubscribes with {@code since}, is told
     * {@code recovered: true} and gets the missed message, then live ones, each once.
     */
    @Test
    void aGapToldByTheNodeIsRecoveredAtOnce() {
        try (ClusterFixture cluster = ClusterFixture.start();
                TcpProxy link = new TcpProxy("127.0.0.1", cluster.nats.port())) {
            int port = HaProxy.freePort();
            TestServer a = up(cluster.node(
                    "a",
                    s -> ClusterSettings.of(List.of("nats://127.0.0.1:" + link.port()))
                            .withNodeId("a"),
                    Map.of("courier.port", String.valueOf(port), "courier.ws.url", "ws://127.0.0.1:" + port + "/ws")));
            TestServer b = up(cluster.node("b"));
            String token = historyTopic(b, "t");
            CourierPage page = CourierPage.load(
                    browser,
                    "http://localhost:" + port + "/healthz",
                    a.uri("/client/courier.js").toString(),
                    a.uri("").toString());
            page.giveTokens(token);
            // A 5 s minimum back-off: a reconnect within the wait below is the immediate one of 3010.
            browser.run(
                    GATED_CLIENT.replace(
                            "newClient({ fetch: gated })",
                            "newClient({ fetch: gated, minDelayMs: 5000, maxDelayMs: 30000 })"),
                    "t");
            String epoch = (String) browser.eval("return sub.position.epoch;");
            long first = publish(b, token, 1, epoch);
            browser.until("t.messages.length === 1", WAIT, "the first message");

            link.cut();
            awaitCluster(a, "down");
            long missed = publish(b, token, 2, epoch);
            link.restore();
            awaitCluster(a, "up");

            browser.until("t.messages.length === 2", WAIT, "the missed message, recovered after the gap was told");
            assertEquals(
                    "{\"code\":\"EHISTORY_GAP\",\"topic\":\"t\"}",
                    browser.eval("const v = t.events.find(x => x.e === 'error').v;"
                            + " return JSON.stringify({ code: v.code, topic: v.topic });"),
                    page.events());
            assertEquals(3010L, browser.eval("return t.events.find(x => x.e === 'disconnected').v.code;"));
            assertEquals(
                    0L, browser.eval("return t.events.find(x => x.e === 'reconnecting').v.delayMs;"), page.events());
            String recovery = (String) browser.eval("return JSON.stringify(t.events.find(x => x.e === 'recovery').v);");
            assertEquals("true", JsonField.get(recovery, "recovered"), recovery);
            assertEquals(String.valueOf(first), JsonField.get(recovery, "since.offset"), recovery);
            assertEquals(String.valueOf(missed), JsonField.get(recovery, "position.offset"), recovery);

            long live = publish(b, token, 3, epoch);
            browser.until("t.messages.length === 3", WAIT, "the message after the recovery");
            assertEquals(List.of(first, missed, live), offsetsSeen());
            assertEquals(List.of(1L, 2L, 3L), browser.eval("return t.messages.map(x => x.n);"));
            assertEquals(1L, page.count("recovery"), page.events());
            assertEquals(1L, page.count("disconnected"), page.events());
            browser.run("c.disconnect();");
        }
    }

    /**
     * A history subscribe while the node cannot reach NATS is refused with ECLUSTER_UNAVAILABLE: the
     * application is told, but the subscription stays and is asked again until NATS is back, then
     * delivers.
     */
    @Test
    void aHistorySubscribeRefusedWhileNatsIsDownIsRetried() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            int port = HaProxy.freePort();
            TestServer a = up(cluster.node(
                    "a",
                    s -> s,
                    Map.of("courier.port", String.valueOf(port), "courier.ws.url", "ws://127.0.0.1:" + port + "/ws")));
            String token = historyTopic(a, "t");
            CourierPage page = CourierPage.load(
                    browser,
                    "http://localhost:" + port + "/healthz",
                    a.uri("/client/courier.js").toString(),
                    a.uri("").toString());
            page.giveTokens(token);
            browser.run("window.c = newClient(); await c.connect();");
            cluster.nats.kill();
            awaitCluster(a, "down");

            browser.run("""
                    window.sub = c.subscribe("t", (m, meta) => t.messages.push({ n: m.n, offset: meta.offset }));
                    sub.ready.then(() => { t.ready = true; });
                    """);
            browser.until("count('error') >= 1", WAIT, "the refusal, told to the application");
            assertEquals(
                    "{\"code\":\"ECLUSTER_UNAVAILABLE\",\"topic\":\"t\"}",
                    browser.eval("const v = t.events.find(x => x.e === 'error').v;"
                            + " return JSON.stringify({ code: v.code, topic: v.topic });"));
            assertEquals(Boolean.TRUE, browser.eval("return sub.active && !t.ready;"), "kept, not yet ready");

            cluster.nats.restart();
            awaitCluster(a, "up");
            browser.until("t.ready === true", WAIT, "subscribed once NATS is back");
            assertEquals(1L, page.count("subscribed"), page.events());
            assertEquals(1L, page.count("connected"), "on the same socket: " + page.events());
            String epoch = (String) browser.eval("return sub.position.epoch;");
            long offset = publish(a, token, 1, epoch);
            browser.until("t.messages.length === 1", WAIT, "a message on the subscription");
            assertEquals(List.of(offset), offsetsSeen());
            browser.run("c.disconnect();");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static TestServer up(TestServer node) {
        awaitCluster(node, "up");
        Await.until(() -> ((ClusterHistory) node.server().history()).epoch() != null, "the history stream is ready");
        return node;
    }

    private static String historyTopic(TestServer node, String topic) {
        String token = node.setUp(TestServer.uniqueAudience());
        HttpResponse<String> r =
                node.post("/v1/topic", token, "{\"topic\":\"" + topic + "\",\"history\":{\"size\":100}}");
        assertEquals(201, r.statusCode(), r.body());
        return token;
    }

    /** The index (among {@code candidates}) of the one node holding the browser's socket. */
    private static int nodeHolding(List<TestServer> nodes, List<Integer> candidates) {
        int[] found = {-1};
        Await.until(
                () -> {
                    List<Integer> holding = candidates.stream()
                            .filter(i -> nodes.get(i).server().hub().connections() == 1)
                            .toList();
                    found[0] = holding.size() == 1 ? holding.get(0) : -1;
                    return found[0] >= 0;
                },
                WAIT,
                "one node holds the browser's socket");
        return found[0];
    }

    /** Publishes {"n":n} to feed/t through {@code node}'s hook; returns the offset it was given. */
    private static long publish(TestServer node, String token, int n, String epoch) {
        String topic = (String) browser.eval("return sub.topic;");
        HttpResponse<String> r = node.post(
                "/v1/hook",
                token,
                "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"n\":" + n + "}}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(epoch, r.headers().firstValue("Courier-Epoch").orElseThrow());
        return Long.parseLong(r.headers().firstValue("Courier-Offset").orElseThrow());
    }

    @SuppressWarnings("unchecked")
    private static List<Long> offsetsSeen() {
        return (List<Long>) browser.eval("return t.messages.map(x => x.offset);");
    }

    private static double recoveries(TestServer node, String result) {
        return node.server()
                .metrics()
                .registry()
                .get("courier.history.recoveries")
                .tag("result", result)
                .counter()
                .count();
    }
}
