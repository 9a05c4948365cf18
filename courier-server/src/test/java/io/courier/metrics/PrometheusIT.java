package io.courier.metrics;

import static io.courier.testing.JsonTree.asList;
import static io.courier.testing.JsonTree.asObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.cluster.ClusterSettings;
import io.courier.testing.Await;
import io.courier.testing.NatsServer;
import io.courier.testing.OperatorKit;
import io.courier.testing.Prometheus;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's package) runs the shipped {@code config/prometheus.yml}, in its bearer
 * token variant, with the shipped alert rules, and scrapes real nodes: a single node and, when
 * PostgreSQL is configured, two cluster nodes over a NATS of the test's own. After known traffic it
 * must hold exactly what happened; every metric name the rules and the dashboard use must be among
 * the names it scraped (a misspelt name would only return nothing); every expression must evaluate;
 * and {@code promtool check metrics} must find nothing in Courier's own and the Netty allocator's
 * metrics.
 */
class PrometheusIT {
    private static final String TOKEN = "prometheus-scrape-secret-0123";
    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    private static final List<AutoCloseable> resources = new ArrayList<>();
    private static final List<WsClient> subscribers = new ArrayList<>();
    private static TestServer single;
    /** Null without PostgreSQL (a cluster needs it). */
    private static TestServer nodeA;

    private static TestServer nodeB;
    private static Prometheus prometheus;

    @BeforeAll
    static void start() throws Exception {
        single = keep(TestServer.start(Map.of("courier.metrics.token", TOKEN)));
        List<TestServer> nodes = new ArrayList<>(List.of(single));
        if (TestPostgres.url().isPresent()) {
            NatsServer nats = keep(NatsServer.start());
            String namespace = TestPostgres.freshNamespace("courier_prometheus_");
            resources.add(() -> TestPostgres.drop(namespace));
            Map<String, String> config = Map.of(
                    "courier.database.url", TestPostgres.url().get(),
                    "courier.database.namespace", namespace,
                    "courier.metrics.token", TOKEN);
            nodeA = keep(TestServer.start(
                    config, ClusterSettings.of(List.of(nats.url())).withNodeId("prom-a")));
            nodeB = keep(TestServer.start(
                    config, ClusterSettings.of(List.of(nats.url())).withNodeId("prom-b")));
            nodes.add(nodeA);
            nodes.add(nodeB);
        } else {
            System.out.println("NOTICE: " + TestPostgres.skipReason() + "; PrometheusIT scrapes no cluster node");
        }
        Path token = Files.writeString(dir.resolve("courier-metrics-token"), TOKEN + "\n");
        prometheus = keep(Prometheus.start(
                dir.resolve("prometheus"),
                INTERVAL,
                nodes.stream().map(PrometheusIT::instance).toList(),
                token));
        // Traffic once every node was scraped, so that the rates show it.
        for (TestServer node : nodes) {
            awaitValue(on(node, "up{job=\"courier\"}"), 1);
        }
        traffic();
        // The GC binder registers its pause timer at the first collection after it was bound.
        System.gc();
    }

    private static <T extends AutoCloseable> T keep(T resource) {
        resources.add(resource);
        return resource;
    }

    @AfterAll
    static void stop() throws Exception {
        subscribers.forEach(WsClient::close);
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private static String instance(TestServer node) {
        return "127.0.0.1:" + node.port();
    }

    /**
     * Single node: 3 subscribers; a hook publish and a hook broadcast (3 deliveries each); a socket
     * publish to a topic that does not exist; a handshake with a bad key; a request with a bad token.
     * Cluster: a hook publish on node A reaches a subscriber on node B.
     */
    private static void traffic() {
        String token = single.setUp(TestServer.uniqueAudience(), "t");
        for (int i = 0; i < 3; i++) {
            WsClient c = single.connect(token);
            c.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}");
            assertEquals("{\"action\":\"ack\",\"id\":1}", c.next());
            subscribers.add(c);
        }
        assertEquals(200, single.post("/v1/hook", token, hook("publish", "t")).statusCode());
        subscribers.forEach(WsClient::next);
        assertEquals(
                200, single.post("/v1/hook", token, hook("broadcast", null)).statusCode());
        subscribers.forEach(WsClient::next);
        WsClient first = subscribers.get(0);
        first.send("{\"action\":\"publish\",\"topic\":\"nope\",\"message\":{},\"id\":2}");
        assertTrue(first.next().contains("ETOPIC_NOTFOUND"));
        try (WsWire raw = WsWire.connect(single.port(), Duration.ofSeconds(10))) {
            raw.upgrade("/ws?token=garbage");
        }
        assertEquals(401, single.get("/v1/topic", "not-a-token").statusCode());

        if (nodeA != null) {
            for (TestServer n : List.of(nodeA, nodeB)) {
                Await.until(
                        () -> n.get("/readyz", null).body().contains("\"cluster\":\"up\""),
                        WAIT,
                        "node " + n.port() + " reports cluster up");
            }
            String clusterToken = nodeA.setUp(TestServer.uniqueAudience(), "c");
            WsClient onB = nodeB.connect(clusterToken);
            subscribers.add(onB);
            onB.send("{\"action\":\"subscribe\",\"topic\":\"c\",\"id\":1}");
            assertEquals("{\"action\":\"ack\",\"id\":1}", onB.next());
            assertEquals(
                    200,
                    nodeA.post("/v1/hook", clusterToken, hook("publish", "c")).statusCode());
            assertEquals("{\"action\":\"publish\",\"topic\":\"c\",\"message\":{\"n\":1}}", onB.next());
        }
    }

    private static String hook(String action, String topic) {
        return "{\"action\":\"" + action + "\"," + (topic == null ? "" : "\"topic\":\"" + topic + "\",")
                + "\"message\":{\"n\":1}}";
    }

    private static void awaitValue(String promql, double expected) {
        double[] last = {Double.NaN};
        try {
            Await.until(
                    () -> {
                        last[0] = prometheus.value(promql);
                        return last[0] == expected;
                    },
                    WAIT,
                    promql + " == " + expected);
        } catch (AssertionError e) {
            throw new AssertionError(promql + ": expected " + expected + ", Prometheus holds " + last[0], e);
        }
    }

    /** As {@link Await#until}, and when it times out the failure shows {@code state} as last seen. */
    private static void awaitOrReport(BooleanSupplier condition, String what, Object state) {
        try {
            Await.until(condition, WAIT, what);
        } catch (AssertionError e) {
            throw new AssertionError(what + ": " + state, e);
        }
    }

    private static String on(TestServer node, String selector) {
        String at = "instance=\"" + instance(node) + "\"";
        return selector.contains("{") ? selector.replace("{", "{" + at + ",") : selector + "{" + at + "}";
    }

    @Test
    void targetsAreUpAndTheTrafficArrivesWithItsValues() {
        for (TestServer node :
                Stream.of(single, nodeA, nodeB).filter(n -> n != null).toList()) {
            awaitValue(on(node, "up{job=\"courier\"}"), 1);
        }
        awaitValue(on(single, "courier_deliveries_total"), 6);
        awaitValue(on(single, "courier_messages_published_total{source=\"hook\",kind=\"publish\"}"), 1);
        awaitValue(on(single, "courier_messages_published_total{source=\"hook\",kind=\"broadcast\"}"), 1);
        awaitValue(on(single, "courier_messages_refused_total{code=\"ETOPIC_NOTFOUND\"}"), 1);
        awaitValue(on(single, "courier_connections"), 3);
        awaitValue(on(single, "courier_subscriptions"), 3);
        awaitValue(on(single, "courier_connections_opened_total"), 3);
        awaitValue(on(single, "courier_handshakes_refused_total{reason=\"bad_key\"}"), 1);
        awaitValue(
                on(single, "courier_http_requests_seconds_count{route=\"/v1/hook\",status=\"200\",code=\"none\"}"), 2);
        awaitValue("sum(" + on(single, "courier_http_requests_seconds_count{code=\"ETOKEN_INVALID\"}") + ")", 1);
        assertTrue(prometheus.value(on(single, "courier_fanout_seconds_count")) >= 2, "two fan-outs at least");
        if (nodeA != null) {
            awaitValue(on(nodeA, "courier_cluster_connected"), 1);
            awaitValue(on(nodeB, "courier_cluster_connected"), 1);
            awaitValue(on(nodeA, "courier_cluster_published_total"), 1);
            awaitValue(on(nodeB, "courier_cluster_received_total"), 1);
            awaitValue(on(nodeB, "courier_cluster_lag_seconds_count"), 1);
            awaitValue(on(nodeB, "courier_deliveries_total"), 1);
            awaitValue("sum(" + on(nodeB, "courier_cluster_lost_total") + ")", 0);
        }
        // A healthy setup with this traffic puts no alert even in pending.
        awaitValue("count(ALERTS) or vector(0)", 0);
    }

    /** Names the rules and the dashboard use, against what the nodes expose (cluster names need a cluster node). */
    @Test
    void everyMetricNameInTheRulesAndTheDashboardIsExposed() {
        List<String> expressions = new ArrayList<>();
        OperatorKit.alerts().forEach(a -> expressions.add(a.expr()));
        OperatorKit.dashboardQueries().forEach(q -> expressions.add(q.expr()));
        Set<String> used = new TreeSet<>(OperatorKit.metricNames(expressions));
        used.add("courier_connections"); // the instance selector's label_values(courier_connections, instance)
        if (nodeA == null) {
            used.removeIf(n -> n.startsWith("courier_cluster_") || n.equals("courier_topic_lookups_total"));
        }
        assertTrue(used.size() > 30, "names read from the kit: " + used);
        Set<String> missing = new TreeSet<>();
        awaitOrReport(
                () -> {
                    missing.clear();
                    missing.addAll(used);
                    prometheus.metricNames().forEach(missing::remove);
                    return missing.isEmpty();
                },
                "every name used is scraped",
                missing);
        assertEquals(Set.of(), missing);
    }

    /**
     * Every dashboard query evaluates (Grafana's variables replaced: all instances, a 5-minute rate
     * window) and returns data; and every alert rule loaded from the shipped rule_files entry
     * evaluates without error, in Prometheus's own rule evaluation and as an instant query.
     */
    @Test
    void everyExpressionEvaluates() {
        Map<String, String> problems = new LinkedHashMap<>();
        awaitOrReport(
                () -> {
                    problems.clear();
                    for (OperatorKit.Query q : OperatorKit.dashboardQueries()) {
                        String expr = q.expr().replace("$instance", ".+").replace("$__rate_interval", "5m");
                        if (nodeA == null && (expr.contains("courier_cluster_") || expr.contains("topic_lookups"))) {
                            continue;
                        }
                        Map<String, Object> answer = prometheus.query(expr);
                        if (!"success".equals(answer.get("status"))) {
                            problems.put(q.panel() + ": " + expr, String.valueOf(answer.get("error")));
                        } else if (asList(asObject(answer.get("data"), "data").get("result"), "result")
                                .isEmpty()) {
                            problems.put(q.panel() + ": " + expr, "no data");
                        }
                    }
                    return problems.isEmpty();
                },
                "every dashboard query returns data",
                problems);
        assertEquals(Map.of(), problems);

        for (OperatorKit.Alert alert : OperatorKit.alerts()) {
            Map<String, Object> answer = prometheus.query(alert.expr());
            assertEquals("success", answer.get("status"), alert.name() + ": " + answer);
        }
        Map<String, String> health = new LinkedHashMap<>();
        awaitOrReport(
                () -> {
                    health.clear();
                    Map<String, Object> data = asObject(prometheus.api("rules").get("data"), "data");
                    for (Object g : asList(data.get("groups"), "groups")) {
                        for (Object r : asList(asObject(g, "group").get("rules"), "rules")) {
                            Map<String, Object> rule = asObject(r, "rule");
                            health.put((String) rule.get("name"), rule.get("health") + " " + rule.get("lastError"));
                        }
                    }
                    return !health.isEmpty() && health.values().stream().allMatch(h -> !h.startsWith("unknown"));
                },
                "every rule evaluated once",
                health);
        assertEquals(OperatorKit.alerts().size(), health.size(), health::toString);
        health.forEach((name, h) -> assertTrue(h.startsWith("ok"), name + ": " + h));
    }

    /** {@code promtool check metrics} on each node's exposition: nothing about Courier's or Netty's metrics. */
    @Test
    void promtoolFindsNothingInCouriersMetrics() {
        for (TestServer node : Stream.of(single, nodeA).filter(n -> n != null).toList()) {
            HttpResponse<String> r =
                    node.send(HttpRequest.newBuilder(node.uri("/metrics")).GET(), TOKEN);
            assertEquals(200, r.statusCode());
            Prometheus.Result lint = Prometheus.promtool(dir, r.body(), "check", "metrics");
            List<String> ours = lint.output()
                    .lines()
                    .filter(l -> l.startsWith("courier_") || l.startsWith("netty_"))
                    .toList();
            assertEquals(List.of(), ours, "promtool check metrics on " + instance(node) + ":\n" + lint.output());
            assertTrue(r.body().contains("# HELP netty_allocator_memory_used "), "the allocator metrics are there");
        }
    }
}
