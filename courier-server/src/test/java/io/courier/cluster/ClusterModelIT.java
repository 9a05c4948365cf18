package io.courier.cluster;

import static io.courier.cluster.ClusterFixture.awaitCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A seeded, randomized run over three in-process cluster nodes (one NATS, one PostgreSQL namespace)
 * checked against a model: random audiences (2-3) holding random sets of awkward topic names, and
 * 300 random operations (subscribe, unsubscribe, publish and broadcast from a socket, publish and
 * broadcast through the hook), from clients on every node. After each operation every client's
 * deliveries so far must equal the model's exactly: nothing lost, nothing twice, nothing from another
 * audience or an unsubscribed topic, in publish order. A subscribe's ack means the node's NATS
 * subscription is in place, so the model treats it as effective cluster-wide at once.
 *
 * <p>The seed is printed and named in every failure; {@code -Dcourier.cluster.seed=N} reruns one.
 */
class ClusterModelIT {
    /** Names NATS subjects cannot hold as they are, look-alikes of their escapes, and one too long for a token. */
    private static final List<String> NAMES = List.of(
            "a.b", "a*", ">", "%41", "_41", "A", "ü/x", "日本.語", "a..b", "x".repeat(150) + ".long", "x".repeat(151));

    private static final int OPERATIONS = 300;
    private static final int CLIENTS_PER_NODE_AND_AUDIENCE = 2;

    @Test
    void randomOperationsOnThreeNodesMatchTheModel() {
        long seed = Long.getLong("courier.cluster.seed", new Random().nextLong());
        System.out.println("ClusterModelIT seed " + seed + " (rerun: -Dcourier.cluster.seed=" + seed + ")");
        try {
            run(new Random(seed));
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(
                    "seed " + seed + " (rerun with -Dcourier.cluster.seed=" + seed + "): " + e.getMessage(), e);
        }
    }

    private void run(Random random) {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer first = cluster.node("a");
            int audienceCount = 2 + random.nextInt(2);
            List<Audience> audiences = new ArrayList<>();
            for (int i = 0; i < audienceCount; i++) {
                List<String> topics = new ArrayList<>(NAMES);
                java.util.Collections.shuffle(topics, random);
                topics = List.copyOf(topics.subList(0, 4 + random.nextInt(4)));
                String name = TestServer.uniqueAudience();
                audiences.add(new Audience(name, first.setUp(name, topics.toArray(new String[0])), topics));
            }
            List<TestServer> nodes = List.of(first, cluster.node("b"), cluster.node("c"));
            nodes.forEach(n -> awaitCluster(n, "up"));
            List<Peer> peers = new ArrayList<>();
            for (Audience audience : audiences) {
                for (int n = 0; n < nodes.size(); n++) {
                    for (int i = 0; i < CLIENTS_PER_NODE_AND_AUDIENCE; i++) {
                        peers.add(new Peer(nodes.get(n).connect(audience.token), audience, n));
                    }
                }
            }
            try {
                for (int step = 0; step < OPERATIONS; step++) {
                    operate(step, random, nodes, peers);
                    for (Peer p : peers) {
                        p.awaitExpected();
                        assertEquals(p.expected, p.received, "deliveries after step " + step + " to " + p);
                    }
                }
                for (Peer p : peers) {
                    assertNull(p.ws.poll(Duration.ofMillis(30)), "nothing more for " + p);
                }
            } finally {
                peers.forEach(p -> p.ws.close());
            }
        }
    }

    private static void operate(int step, Random random, List<TestServer> nodes, List<Peer> peers) {
        Peer actor = peers.get(random.nextInt(peers.size()));
        Audience audience = actor.audience;
        String topic = audience.topics.get(random.nextInt(audience.topics.size()));
        String message = "{\"n\":" + step + "}";
        int roll = random.nextInt(100);
        if (roll < 30) {
            actor.request("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + step + "}", step);
            actor.topics.add(topic);
        } else if (roll < 40) {
            actor.request("{\"action\":\"unsubscribe\",\"topic\":\"" + topic + "\",\"id\":" + step + "}", step);
            actor.topics.remove(topic);
        } else if (roll < 80) {
            String frame = "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + "}";
            if (roll < 65) {
                actor.request(frame.substring(0, frame.length() - 1) + ",\"id\":" + step + "}", step);
            } else {
                hook(nodes.get(random.nextInt(nodes.size())), audience, frame);
            }
            for (Peer p : peers) {
                if (p.audience == audience && p.topics.contains(topic)) {
                    p.expected.add(frame);
                }
            }
        } else {
            String frame = "{\"action\":\"broadcast\",\"message\":" + message + "}";
            if (roll < 90) {
                actor.request(frame.substring(0, frame.length() - 1) + ",\"id\":" + step + "}", step);
            } else {
                hook(nodes.get(random.nextInt(nodes.size())), audience, frame);
            }
            for (Peer p : peers) {
                if (p.audience == audience) {
                    p.expected.add(frame);
                }
            }
        }
    }

    private static void hook(TestServer node, Audience audience, String frame) {
        HttpResponse<String> r = node.post("/v1/hook", audience.token, frame);
        assertEquals(200, r.statusCode(), r::body);
    }

    private record Audience(String name, String token, List<String> topics) {}

    /** A client and what the model expects it to have received. Test thread only. */
    private static final class Peer {
        final WsClient ws;
        final Audience audience;
        final int node;
        final Set<String> topics = new HashSet<>();
        final List<String> expected = new ArrayList<>();
        final List<String> received = new ArrayList<>();
        private final Set<Integer> acks = new HashSet<>();

        Peer(WsClient ws, Audience audience, int node) {
            this.ws = ws;
            this.audience = audience;
            this.node = node;
        }

        /** Sends a frame carrying {@code id} and waits for its ack, keeping deliveries that come first. */
        void request(String frame, int id) {
            ws.send(frame);
            while (!acks.remove(id)) {
                take(ws.next());
            }
        }

        void awaitExpected() {
            while (received.size() < expected.size()) {
                take(ws.next());
            }
        }

        private void take(String frame) {
            if (frame.startsWith("{\"action\":\"ack\",\"id\":")) {
                acks.add(Integer.parseInt(frame.substring(21, frame.length() - 1)));
            } else if (frame.startsWith("{\"action\":\"publish\"") || frame.startsWith("{\"action\":\"broadcast\"")) {
                received.add(frame);
            } else {
                throw new AssertionError("unexpected frame for " + this + ": " + frame);
            }
        }

        @Override
        public String toString() {
            return "client on node " + node + " of " + audience.name + " subscribed to " + topics;
        }
    }
}
