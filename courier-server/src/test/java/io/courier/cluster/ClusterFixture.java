package io.courier.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.testing.Await;
import io.courier.testing.NatsServer;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Courier nodes in this JVM sharing one PostgreSQL namespace and one {@link NatsServer} of the
 * test's own. Topics created on any node are known on every node at once (the catalogue is shared
 * through announcements and store lookups).
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
        return node(id, tweak, Map.of());
    }

    /** A node with {@code extra} property overrides on top of the cluster's database settings. */
    TestServer node(String id, UnaryOperator<ClusterSettings> tweak, Map<String, String> extra) {
        ClusterSettings settings =
                tweak.apply(ClusterSettings.of(List.of(nats.url())).withNodeId(id));
        Map<String, String> overrides = new HashMap<>(extra);
        overrides.put("courier.database.url", TestPostgres.url().get());
        overrides.put("courier.database.namespace", namespace);
        TestServer node = TestServer.start(overrides, settings);
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

    /** {@code courier_cluster_lost_total{reason="gap"}} on {@code node}: messages from other nodes it knows it missed. */
    static double lostToGaps(TestServer node) {
        return node.server()
                .metrics()
                .registry()
                .get("courier.cluster.lost")
                .tag("reason", "gap")
                .counter()
                .count();
    }

    /** {@code courier_topic_lookups_total} on {@code node}: store lookups made on catalogue misses. */
    static double topicLookups(TestServer node) {
        return node.server()
                .metrics()
                .registry()
                .get("courier.topic.lookups")
                .functionCounter()
                .count();
    }

    /** Adds a topic to the shared store behind every node's back: an announcement that never arrived. */
    void insertTopicBehindTheNodesBack(String audience, String topic) {
        insertTopicBehindTheNodesBack(audience, topic, 0, 0);
    }

    /** As above, with history settings. */
    void insertTopicBehindTheNodesBack(String audience, String topic, int historySize, int historyTtl) {
        String sql = "INSERT INTO " + namespace + ".topics (id, audience_id, name, created_at, updated_at,"
                + " history_size, history_ttl_seconds) SELECT ?, id, ?, now(), now(), " + historySize + ", "
                + historyTtl + " FROM " + namespace + ".audiences WHERE name = ?";
        try (Connection c = DriverManager.getConnection(TestPostgres.url().get());
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, UUID.randomUUID());
            ps.setString(2, topic);
            ps.setString(3, audience);
            if (ps.executeUpdate() != 1) {
                throw new AssertionError("no audience " + audience + " to add " + topic + " to");
            }
        } catch (SQLException e) {
            throw new AssertionError("cannot insert topic " + topic, e);
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
