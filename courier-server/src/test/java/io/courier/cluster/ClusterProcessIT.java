package io.courier.cluster;

import static io.courier.cluster.ClusterFanoutIT.broadcast;
import static io.courier.cluster.ClusterFanoutIT.publish;
import static io.courier.cluster.ClusterFanoutIT.receive;
import static io.courier.cluster.ClusterFixture.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.courier.testing.HttpWire;
import io.courier.testing.JsonField;
import io.courier.testing.RemoteApi;
import io.courier.testing.ServerProcess;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes, each in its own JVM configured from the environment only (see {@link
 * ProcessCluster}), no balancer: a key signed by one node opens a socket on another, and publish,
 * broadcast and hook on every node reach every subscriber of the audience on every node once and in
 * order per publisher, and never the other audience. {@link ClusterFanoutIT} covers the awkward
 * topic names in one JVM; this shows the environment alone forms the cluster.
 */
class ClusterProcessIT {
    private static final String TOPIC = "a.b";
    private static final int PER_PUBLISHER = 5;

    @TempDir
    Path dir;

    @Test
    void threeProcessesFanOutToEachOtherAndShareKeys() {
        try (ProcessCluster cluster = ProcessCluster.start(dir, Map.of())) {
            cluster.startNode(Map.of());
            String x = TestServer.uniqueAudience();
            String y = TestServer.uniqueAudience();
            String tokenX = cluster.setUp(0, x, TOPIC);
            String tokenY = cluster.setUp(0, y, TOPIC);
            cluster.startNode(Map.of());
            cluster.startNode(Map.of());
            List<ServerProcess> nodes = cluster.nodes();
            HttpClient http = HttpClient.newHttpClient();

            List<WsClient> subsX = new ArrayList<>();
            List<WsClient> subsY = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                // Signed by the next node, opened on this one: every node shares COURIER_KEY_SECRET.
                ServerProcess signer = nodes.get((n + 1) % 3);
                subsX.add(connect(http, cluster, signer, nodes.get(n), tokenX));
                subsY.add(connect(http, cluster, signer, nodes.get(n), tokenY));
                subscribe(subsX.get(n), TOPIC, 1);
                subscribe(subsY.get(n), TOPIC, 1);
            }
            List<WsClient> publishers = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                publishers.add(connect(http, cluster, nodes.get(n), nodes.get(n), tokenX));
            }
            for (int i = 0; i < PER_PUBLISHER; i++) {
                for (int n = 0; n < 3; n++) {
                    publishers.get(n).send(publish(TOPIC, "s" + n, i));
                    publishers.get(n).send(broadcast("b" + n, i));
                    RemoteApi api = new RemoteApi(nodes.get(n).port(), TestServer.SECRET, dir);
                    assertEquals(
                            200,
                            api.post("/v1/hook", tokenX, publish(TOPIC, "h" + n, i))
                                    .statusCode());
                }
            }
            List<Integer> sequence =
                    java.util.stream.IntStream.range(0, PER_PUBLISHER).boxed().toList();
            for (int n = 0; n < 3; n++) {
                Map<String, List<Integer>> received = receive(subsX.get(n), 9 * PER_PUBLISHER);
                assertEquals(9, received.size(), received.keySet()::toString);
                for (Map.Entry<String, List<Integer>> e : received.entrySet()) {
                    assertEquals(sequence, e.getValue(), "node " + (n + 1) + ", stream " + e.getKey());
                }
                assertNull(subsX.get(n).poll(Duration.ofMillis(200)), "no duplicate");
                assertNull(subsY.get(n).poll(Duration.ofMillis(50)), "nothing crosses into audience y");
            }
            subsX.forEach(WsClient::close);
            subsY.forEach(WsClient::close);
            publishers.forEach(WsClient::close);
        }
    }

    private static WsClient connect(
            HttpClient http, ProcessCluster cluster, ServerProcess signer, ServerProcess node, String token) {
        HttpWire.Response signed = cluster.request(signer, "GET", "/v1/sign", token, null);
        assertEquals(200, signed.status(), signed::toString);
        String key = JsonField.get(signed.body(), "key");
        WsClient client = WsClient.connect(http, "ws://127.0.0.1:" + node.port() + "/ws?token=" + key);
        assertEquals("connected", JsonField.get(client.next(), "action"));
        return client;
    }
}
