package io.courier.cluster;

import static io.courier.cluster.ClusterFixture.awaitCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.courier.testing.Await;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 * <p>One allowance, the edge of that guarantee: a message published on another node <em>before</em>
 * a subscribe (or a reconnect) was acknowledged may still be on its way to the subscriber's node, and
 * when that node already had interest in the subject (another client, or the linger after the last
 * one left) it reaches the new subscription. Core NATS has no order between a publish on one node and
 * a subscribe on another, so such a message is neither required nor forbidden: it is counted, and
 * accepted only if it was published before the subscription, to this client's audience and topic
 * (or to its audience, for a broadcast), and at most once.
 *
 * <p>Some topics keep history. Their deliveries carry offsets, which must strictly increase per
 * client and topic; clients also drop their connection at random, miss what is published meanwhile,
 * and come back on a random node, resubscribing with {@code since}: the model expects
 * {@code recovered:true} and exactly the missed messages, in order, then live ones.
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
                int plain = 3 + random.nextInt(3);
                List<String> history = List.copyOf(topics.subList(plain, plain + 1 + random.nextInt(2)));
                topics = List.copyOf(topics.subList(0, plain + history.size()));
                String name = TestServer.uniqueAudience();
                String token = first.setUp(name, topics.subList(0, plain).toArray(new String[0]));
                for (String h : history) {
                    HttpResponse<String> r =
                            first.post("/v1/topic", token, "{\"topic\":\"" + h + "\",\"history\":{\"size\":1000}}");
                    assertEquals(201, r.statusCode(), r::body);
                }
                audiences.add(new Audience(name, token, topics, Set.copyOf(history)));
            }
            List<TestServer> nodes = List.of(first, cluster.node("b"), cluster.node("c"));
            nodes.forEach(n -> awaitCluster(n, "up"));
            for (TestServer n : nodes) {
                Await.until(() -> ((ClusterHistory) n.server().history()).epoch() != null, "history stream ready");
            }
            List<Peer> peers = new ArrayList<>();
            Map<Integer, String> published = new HashMap<>();
            for (Audience audience : audiences) {
                for (int n = 0; n < nodes.size(); n++) {
                    for (int i = 0; i < CLIENTS_PER_NODE_AND_AUDIENCE; i++) {
                        peers.add(new Peer(nodes.get(n).connect(audience.token), audience, n, published));
                    }
                }
            }
            try {
                for (int step = 0; step < OPERATIONS; step++) {
                    operate(step, random, nodes, peers, published);
                    for (Peer p : peers) {
                        if (p.ws != null) {
                            p.awaitExpected();
                            assertEquals(p.expected, p.received, "deliveries after step " + step + " to " + p);
                        }
                    }
                }
                for (Peer p : peers) {
                    if (p.ws != null) {
                        assertNull(p.ws.poll(Duration.ofMillis(30)), "nothing more for " + p);
                    }
                }
                System.out.println("ClusterModelIT: "
                        + peers.stream().mapToInt(p -> p.recoveries).sum()
                        + " recoveries with since, "
                        + peers.stream().mapToInt(p -> p.replayed).sum()
                        + " messages replayed, "
                        + peers.stream().mapToInt(p -> p.early).sum()
                        + " published before a subscribe and delivered after it (allowed)");
            } finally {
                peers.stream().filter(p -> p.ws != null).forEach(p -> p.ws.close());
            }
        }
    }

    /** {@code published}: step to where its message went ({@code audience + "\n" + topic}, topic "" for a broadcast). */
    private static void operate(
            int step, Random random, List<TestServer> nodes, List<Peer> peers, Map<Integer, String> published) {
        Peer actor = peers.get(random.nextInt(peers.size()));
        Audience audience = actor.audience;
        // Half the operations on history topics, so that clients away miss some of their messages.
        List<String> pool = random.nextBoolean() ? List.copyOf(audience.history) : audience.topics;
        String topic = pool.get(random.nextInt(pool.size()));
        String message = "{\"n\":" + step + "}";
        int roll = random.nextInt(100);
        if (actor.ws == null) {
            if (step - actor.droppedAt >= 10) {
                actor.comeBack(nodes.get(random.nextInt(nodes.size())), step);
            }
            return;
        }
        if (roll < 5) {
            actor.drop(step);
            return;
        }
        if (roll < 30) {
            actor.request("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + step + "}", step);
            if (actor.topics.add(topic)) {
                actor.subscribedAt.put(topic, step);
            }
        } else if (roll < 40) {
            actor.request("{\"action\":\"unsubscribe\",\"topic\":\"" + topic + "\",\"id\":" + step + "}", step);
            actor.topics.remove(topic);
        } else if (roll < 80) {
            String frame = "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + "}";
            published.put(step, audience.name + "\n" + topic);
            if (roll < 65) {
                actor.request(frame.substring(0, frame.length() - 1) + ",\"id\":" + step + "}", step);
            } else {
                hook(nodes.get(random.nextInt(nodes.size())), audience, frame);
            }
            for (Peer p : peers) {
                if (p.audience == audience && p.topics.contains(topic)) {
                    if (p.ws != null) {
                        p.expected.add(frame);
                    } else if (audience.history.contains(topic)) {
                        p.missed.add(frame); // replayed when it comes back
                    }
                }
            }
        } else {
            String frame = "{\"action\":\"broadcast\",\"message\":" + message + "}";
            published.put(step, audience.name + "\n");
            if (roll < 90) {
                actor.request(frame.substring(0, frame.length() - 1) + ",\"id\":" + step + "}", step);
            } else {
                hook(nodes.get(random.nextInt(nodes.size())), audience, frame);
            }
            for (Peer p : peers) {
                if (p.audience == audience && p.ws != null) {
                    p.expected.add(frame); // broadcasts keep no history: missed while away
                }
            }
        }
    }

    private static void hook(TestServer node, Audience audience, String frame) {
        HttpResponse<String> r = node.post("/v1/hook", audience.token, frame);
        assertEquals(200, r.statusCode(), r::body);
    }

    private record Audience(String name, String token, List<String> topics, Set<String> history) {}

    /** A client and what the model expects it to have received. Test thread only. */
    private static final class Peer {
        /** Null while dropped. */
        WsClient ws;

        final Audience audience;
        int node;
        final Set<String> topics = new HashSet<>();
        final List<String> expected = new ArrayList<>();
        final List<String> received = new ArrayList<>();
        /** History topics' frames published while dropped, in order. */
        final List<String> missed = new ArrayList<>();
        /** Per history topic: the last offset received (or the position of the ack). */
        final Map<String, Long> offsets = new HashMap<>();

        /** Per topic: the step whose subscribe made it this client's (the one in force). */
        final Map<String, Integer> subscribedAt = new HashMap<>();
        /** The step this client's current connection opened at. */
        int connectedAt = -1;

        private final Map<Integer, String> published;
        private final Set<Integer> earlyTaken = new HashSet<>();
        int early;

        String epoch;
        int recoveries;
        int replayed;
        int droppedAt;
        private final Set<Integer> acks = new HashSet<>();

        Peer(WsClient ws, Audience audience, int node, Map<Integer, String> published) {
            this.ws = ws;
            this.audience = audience;
            this.node = node;
            this.published = published;
        }

        /** Loses its connection; the subscriptions' state stays with the client, as a browser's would. */
        void drop(int step) {
            droppedAt = step;
            awaitExpected();
            ws.close();
            ws = null;
        }

        /**
         * Reconnects to {@code to} and resubscribes: plain topics as new, history topics from where
         * it left off, which must recover exactly what it missed.
         */
        void comeBack(TestServer to, int step) {
            ws = to.connect(audience.token);
            connectedAt = step;
            node = -1;
            int id = 100_000 + step * 100;
            for (String topic : topics) {
                id++;
                if (audience.history.contains(topic)) {
                    ws.send("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + id
                            + ",\"since\":{\"offset\":" + offsets.get(topic) + ",\"epoch\":\"" + epoch + "\"}}");
                    String ack = ws.next();
                    assertEquals("true", JsonField.get(ack, "recovered"), () -> this + ": " + ack);
                    recoveries++;
                    for (String frame : List.copyOf(missed)) {
                        if (frame.contains("\"topic\":\"" + topic + "\"")) {
                            expected.add(frame);
                            missed.remove(frame);
                            replayed++;
                        }
                    }
                    awaitExpected();
                } else {
                    request("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + id + "}", id);
                }
            }
            missed.clear();
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
                String offset = JsonField.get(frame, "position.offset");
                if (offset != null) {
                    offsets.put(JsonField.get(frame, "topic"), Long.parseLong(offset));
                    epoch = JsonField.get(frame, "position.epoch");
                }
                acks.add(Integer.parseInt(JsonField.get(frame, "id")));
            } else if (frame.startsWith("{\"action\":\"publish\"") || frame.startsWith("{\"action\":\"broadcast\"")) {
                int at = frame.lastIndexOf(",\"offset\":");
                if (at >= 0) {
                    String topic = JsonField.get(frame, "topic");
                    long offset = Long.parseLong(frame.substring(at + 10, frame.length() - 1));
                    long before = offsets.getOrDefault(topic, -1L);
                    if (offset <= before) {
                        throw new AssertionError(this + ": offset " + offset + " after " + before + " on " + topic);
                    }
                    offsets.put(topic, offset);
                    frame = frame.substring(0, at) + "}";
                }
                if (publishedBeforeItsSubscription(frame)) {
                    early++;
                    return;
                }
                received.add(frame);
            } else {
                throw new AssertionError("unexpected frame for " + this + ": " + frame);
            }
        }

        /**
         * A message the model did not expect that was published, to this client's audience and a
         * topic it now holds (or as a broadcast), before its subscription or connection began; see
         * the class comment. Each such step is allowed once.
         */
        private boolean publishedBeforeItsSubscription(String frame) {
            if (received.size() < expected.size()
                    && expected.get(received.size()).equals(frame)) {
                return false;
            }
            String n = JsonField.get(frame, "message.n");
            if (n == null) {
                return false;
            }
            int step = Integer.parseInt(n);
            String topic = frame.startsWith("{\"action\":\"broadcast\"") ? "" : JsonField.get(frame, "topic");
            int since = topic.isEmpty() ? connectedAt : Math.max(connectedAt, subscribedAt.getOrDefault(topic, -1));
            return step < since
                    && (audience.name + "\n" + topic).equals(published.get(step))
                    && (topic.isEmpty() || topics.contains(topic))
                    && earlyTaken.add(step);
        }

        @Override
        public String toString() {
            return "client on node " + node + " of " + audience.name + " subscribed to " + topics;
        }
    }
}
