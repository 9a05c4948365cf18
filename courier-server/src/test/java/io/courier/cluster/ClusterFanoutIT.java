package io.courier.cluster;

import static io.courier.cluster.ClusterFixture.awaitCluster;
import static io.courier.cluster.ClusterFixture.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Three nodes in one JVM over a NATS of the test's own: what is published, broadcast or hooked on
 * any node reaches every subscriber on every node once, in order per publisher, and never another
 * audience; and an acknowledged subscribe is in place for publishes from other nodes.
 */
class ClusterFanoutIT {
    /** Topic names NATS subjects cannot hold as they are, and one too long for a token. */
    private static final List<String> TOPICS = List.of("a.b", "a*", ">", "%41", "_41", "ü/x", "t".repeat(200));

    private static final int PER_PUBLISHER = 10;
    private static final Pattern FRAME =
            Pattern.compile("^\\{\"action\":\"(publish|broadcast)\",(?:\"topic\":\"([^\"]*)\",)?\"message\":"
                    + "\\{\"src\":\"([^\"]+)\",\"seq\":(\\d+)}}$");

    @Test
    void publishBroadcastAndHookOnEveryNodeReachEverySubscriberOnceAndInOrder() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            String x = TestServer.uniqueAudience();
            String y = TestServer.uniqueAudience();
            String tokenX = a.setUp(x, TOPICS.toArray(new String[0]));
            String tokenY = a.setUp(y, TOPICS.toArray(new String[0]));
            List<TestServer> nodes = List.of(a, cluster.node("b"), cluster.node("c"));
            nodes.forEach(n -> awaitCluster(n, "up"));

            List<WsClient> subsX = new ArrayList<>();
            List<WsClient> subsY = new ArrayList<>();
            for (TestServer n : nodes) {
                WsClient sx = n.connect(tokenX);
                WsClient sy = n.connect(tokenY);
                for (int t = 0; t < TOPICS.size(); t++) {
                    subscribe(sx, TOPICS.get(t), t);
                    subscribe(sy, TOPICS.get(t), t);
                }
                subsX.add(sx);
                subsY.add(sy);
            }
            List<WsClient> publishers =
                    nodes.stream().map(n -> n.connect(tokenX)).toList();
            for (int i = 0; i < PER_PUBLISHER; i++) {
                for (int n = 0; n < nodes.size(); n++) {
                    for (String topic : TOPICS) {
                        publishers.get(n).send(publish(topic, "s" + n, i));
                        hook(nodes.get(n), tokenX, publish(topic, "h" + n, i));
                    }
                    publishers.get(n).send(broadcast("b" + n, i));
                }
            }
            for (int n = 0; n < nodes.size(); n++) {
                hook(nodes.get(n), tokenY, publish("a.b", "y" + n, 0));
            }

            int expected = TOPICS.size() * nodes.size() * 2 * PER_PUBLISHER + nodes.size() * PER_PUBLISHER;
            for (int n = 0; n < nodes.size(); n++) {
                Map<String, List<Integer>> received = receive(subsX.get(n), expected);
                assertEquals(
                        TOPICS.size() * nodes.size() * 2 + nodes.size(), received.size(), received.keySet()::toString);
                for (Map.Entry<String, List<Integer>> e : received.entrySet()) {
                    assertEquals(sequence(PER_PUBLISHER), e.getValue(), "node " + n + ", stream " + e.getKey());
                    assertTrue(!e.getKey().contains("|y"), "audience y's message reached audience x: " + e.getKey());
                }
                Map<String, List<Integer>> other = receive(subsY.get(n), nodes.size());
                assertEquals(
                        Map.of(
                                "publish a.b|y0",
                                List.of(0),
                                "publish a.b|y1",
                                List.of(0),
                                "publish a.b|y2",
                                List.of(0)),
                        other,
                        "audience y receives only its own messages, once");
            }
            for (WsClient c : subsX) {
                assertNull(c.poll(Duration.ofMillis(300)), "nothing more (no duplicate)");
            }
            for (WsClient c : subsY) {
                assertNull(c.poll(Duration.ofMillis(100)), "nothing more (no duplicate, nothing from x)");
            }
            long published = nodes.stream()
                    .mapToLong(n -> (long) n.server()
                            .metrics()
                            .registry()
                            .get("courier.cluster.published")
                            .counter()
                            .count())
                    .sum();
            long received = nodes.stream()
                    .mapToLong(n -> (long) n.server()
                            .metrics()
                            .registry()
                            .get("courier.cluster.received")
                            .counter()
                            .count())
                    .sum();
            // Every message reaches the two other nodes once (each has interest in every topic).
            assertEquals(2 * published, received);
            for (TestServer n : nodes) {
                assertEquals(0.0, ClusterFixture.lostToGaps(n), "no outage, so no sequence gap counted");
            }
            // The dispatcher thread only hands bytes to the hub: its queueing shows in the lag.
            for (TestServer n : nodes) {
                var lag = n.server().cluster().meters().lagTimer();
                System.out.printf(
                        "cluster lag on %s: %d received, mean %.3f ms, max %.3f ms%n",
                        n.server().cluster().nodeId(),
                        lag.count(),
                        lag.mean(java.util.concurrent.TimeUnit.MILLISECONDS),
                        lag.max(java.util.concurrent.TimeUnit.MILLISECONDS));
            }
            subsX.forEach(WsClient::close);
            subsY.forEach(WsClient::close);
            publishers.forEach(WsClient::close);
        }
    }

    @Test
    void anAcknowledgedSubscribeReceivesAPublishFromAnotherNodeRightAfter() {
        int rounds = 50;
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            String x = TestServer.uniqueAudience();
            String[] topics = new String[rounds];
            for (int i = 0; i < rounds; i++) {
                topics[i] = "fresh." + i;
            }
            String token = a.setUp(x, topics);
            TestServer b = cluster.node("b");
            awaitCluster(a, "up");
            awaitCluster(b, "up");
            try (WsClient subscriber = a.connect(token)) {
                for (int i = 0; i < rounds; i++) {
                    // A topic nobody on a subscribed before: the ack must wait for a new NATS subscription.
                    subscribe(subscriber, topics[i], i);
                    hook(b, token, publish(topics[i], "b", i));
                    String frame = subscriber.next();
                    Matcher m = FRAME.matcher(frame);
                    assertTrue(m.matches(), frame);
                    assertEquals(topics[i], m.group(2), frame);
                    assertEquals(Integer.toString(i), m.group(4), frame);
                }
            }
        }
    }

    static String publish(String topic, String src, int seq) {
        return "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"src\":\"" + src + "\",\"seq\":" + seq
                + "}}";
    }

    static String broadcast(String src, int seq) {
        return "{\"action\":\"broadcast\",\"message\":{\"src\":\"" + src + "\",\"seq\":" + seq + "}}";
    }

    static void hook(TestServer node, String token, String body) {
        HttpResponse<String> r = node.post("/v1/hook", token, body);
        assertEquals(200, r.statusCode(), r::body);
    }

    /** Takes {@code count} frames: per stream ("kind topic|src") the sequence numbers in arrival order. */
    static Map<String, List<Integer>> receive(WsClient client, int count) {
        Map<String, List<Integer>> streams = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            String frame = client.next();
            Matcher m = FRAME.matcher(frame);
            assertTrue(m.matches(), frame);
            String stream = m.group(1) + (m.group(2) == null ? "" : " " + m.group(2)) + "|" + m.group(3);
            streams.computeIfAbsent(stream, k -> new ArrayList<>()).add(Integer.parseInt(m.group(4)));
        }
        return streams;
    }

    private static List<Integer> sequence(int n) {
        List<Integer> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(i);
        }
        return list;
    }
}
