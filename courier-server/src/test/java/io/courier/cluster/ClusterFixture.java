package io.courier.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.testing.Await;
import io.courier.testing.NatsServer;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Courier nodes in this JVM sharing one PostgreSQL namespace and one {@link NatsServer} of the
 * test's own. The catalogue is loaded at startup only (for now), so a test creates its audiences
 * and topics through the first node before starting the others.
 */
final class ClusterFixture implements AutoCloseable {
    static final Duration UP_TIMEOUT = Duration.ofSeconds(20);

    final NatsServer nats;
    final String namespace = TestPostgres.freshNamespace("courier_cluster_");
    final List<TestServer> nodes = new ArrayList<>();

    private ClusterFixture(NatsServer nats) {
        this.nats = nats;
    }

    /** Skips when PostgreSQL is not configured (cluster mode will refuse H2). */
    static ClusterFixture start() {
        assumeTrue(TestPostgres.url().isPresent(), TestPostgres.skipReason());
        return new ClusterFixture(NatsServer.start());
    }

    TestServer node(String id) {
        return node(id, s -> s);
    }

    TestServer node(String id, UnaryOperator<ClusterSettings> tweak) {
        ClusterSettings settings =
                tweak.apply(ClusterSettings.of(List.of(nats.url())).withNodeId(id));
        TestServer node = TestServer.start(
                Map.of("courier.database.url", TestPostgres.url().get(), "courier.database.namespace", namespace),
                settings);
        nodes.add(node);
        return node;
    }

    static String readyz(TestServer node) {
        return node.get("/readyz", null).body();
    }

    static void awaitCluster(TestServer node, String state) {
        Await.until(
                () -> readyz(node).contains("\"cluster\":\"" + state + "\""),
                UP_TIMEOUT,
                "node " + node.server().cluster().nodeId() + " reports cluster " + state);
    }

    /** Sends a subscribe with an id and asserts the next frame is its ack. */
    static void subscribe(WsClient client, String topic, int id) {
        client.send("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + id + "}");
        String ack = client.next();
        if (!ack.equals("{\"action\":\"ack\",\"id\":" + id + "}")) {
            throw new AssertionError("expected the ack of subscribe " + id + " to " + topic + ", got " + ack);
        }
    }

    @Override
    public void close() {
        for (TestServer node : nodes) {
            node.close();
        }
        nats.close();
        TestPostgres.drop(namespace);
    }
}
