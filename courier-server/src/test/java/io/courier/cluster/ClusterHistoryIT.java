package io.courier.cluster;

import static io.courier.cluster.ClusterFixture.awaitCluster;
import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.TcpProxy;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.impl.Headers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * History across nodes, over a real nats-server with JetStream (file storage) and the shared
 * PostgreSQL: a subscriber recovers on a different node while a third publishes; the epoch and the
 * history survive a NATS restart; a message lost between nodes is told to the subscriber; and a
 * history publish while NATS is down is refused.
 */
class ClusterHistoryIT {
    private static final Duration QUIET = Duration.ofMillis(300);

    @Test
    void aSubscriberRecoversOnADifferentNodeWhilePublishesGoOnOnAThird() throws Exception {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = up(cluster.node("a"));
            TestServer b = up(cluster.node("b"));
            TestServer c = up(cluster.node("c"));
            String token = historyTopic(a, "events", 1000);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            List<Long> published = new ArrayList<>();
            WsClient onA = a.connect(token);
            try (WsClient onOrigin = c.connect(token)) {
                String epoch = get(subscribe(onA, "events", null), "position.epoch");
                subscribe(onOrigin, "events", null);
                Future<?> publishing = pool.submit(() -> {
                    for (int i = 1; i <= 200; i++) {
                        HttpResponse<String> r = c.post("/v1/hook", token, publish("events", i));
                        assertEquals(200, r.statusCode(), r.body());
                        published.add(Long.parseLong(
                                r.headers().firstValue("Courier-Offset").orElseThrow()));
                    }
                    return null;
                });
                List<Long> seen = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    seen.add(Long.parseLong(get(onA.next(), "offset")));
                }
                onA.close(); // drops while c goes on publishing
                long last = seen.get(seen.size() - 1);
                try (WsClient onB = b.connect(token)) {
                    String ack = subscribe(onB, "events", "{\"offset\":" + last + ",\"epoch\":\"" + epoch + "\"}");
                    assertEquals("true", get(ack, "recovered"), ack);
                    assertEquals(epoch, get(ack, "position.epoch"), "one epoch on every node");
                    publishing.get(60, TimeUnit.SECONDS);
                    long lastPublished = published.get(published.size() - 1);
                    while (seen.get(seen.size() - 1) < lastPublished) {
                        seen.add(Long.parseLong(get(onB.next(), "offset")));
                    }
                    assertNull(onB.poll(QUIET), "nothing twice");
                }
                assertEquals(published, seen, "every offset once, in order, across the two nodes");
                List<Long> atOrigin = new ArrayList<>();
                for (int i = 0; i < published.size(); i++) {
                    atOrigin.add(Long.parseLong(get(onOrigin.next(), "offset")));
                }
                assertEquals(published, atOrigin, "the origin delivers the republished copy only, once");
                assertNull(onOrigin.poll(QUIET));
            } finally {
                pool.shutdownNow();
                onA.close();
            }
        }
    }

    /**
     * 30 clients spread over three nodes recover the same topic from one position at once while a
     * socket on another node publishes as fast as it can: each gets every offset after the position
     * exactly once, in order, as an observer subscribed throughout saw them (the buffer-and-merge
     * under concurrency: messages stored while a recovery reads the stream).
     */
    @Test
    void concurrentRecoveriesOnEveryNodeWhilePublishingHaveNoGapAndNoDuplicate() throws Exception {
        int total = 300; // every client at most 280 behind: within the default recovery limit of 300
        try (ClusterFixture cluster = ClusterFixture.start()) {
            List<TestServer> nodes = List.of(up(cluster.node("a")), up(cluster.node("b")), up(cluster.node("c")));
            String token = historyTopic(nodes.get(0), "crowd", 1000);
            List<WsClient> crowd = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try (WsClient observer = nodes.get(0).connect(token);
                    WsClient publisher = nodes.get(2).connect(token)) {
                String epoch = get(subscribe(observer, "crowd", null), "position.epoch");
                for (int i = 0; i < 30; i++) {
                    crowd.add(nodes.get(i % 3).connect(token));
                }
                for (int i = 1; i <= 20; i++) {
                    publisher.send(publish("crowd", i));
                }
                List<Long> truth = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    truth.add(Long.parseLong(get(observer.next(), "offset")));
                }
                long from = truth.get(truth.size() - 1);
                Future<?> publishing = pool.submit(() -> {
                    for (int i = 21; i <= total; i++) {
                        publisher.send(publish("crowd", i));
                    }
                    return null;
                });
                List<Future<List<Long>>> results = new ArrayList<>();
                for (WsClient c : crowd) {
                    results.add(pool.submit(() -> {
                        String ack = subscribe(c, "crowd", "{\"offset\":" + from + ",\"epoch\":\"" + epoch + "\"}");
                        assertEquals("true", get(ack, "recovered"), ack);
                        List<Long> seen = new ArrayList<>();
                        while (seen.size() < total - 20) {
                            seen.add(Long.parseLong(get(c.next(), "offset")));
                        }
                        return seen;
                    }));
                }
                publishing.get(120, TimeUnit.SECONDS);
                while (truth.size() < total) {
                    truth.add(Long.parseLong(get(observer.next(), "offset")));
                }
                List<Long> expected = truth.subList(20, total);
                for (Future<List<Long>> result : results) {
                    assertEquals(expected, result.get(120, TimeUnit.SECONDS), "every offset once, in order");
                }
                for (WsClient c : crowd) {
                    assertNull(c.poll(Duration.ofMillis(20)), "nothing after the last");
                }
            } finally {
                pool.shutdownNow();
                crowd.forEach(WsClient::close);
            }
        }
    }

    @Test
    void theEpochAndTheHistorySurviveANatsRestart() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = up(cluster.node("a"));
            TestServer b = up(cluster.node("b"));
            String token = historyTopic(a, "events", 100);
            String epoch;
            long last;
            try (WsClient s = a.connect(token)) {
                String ack = subscribe(s, "events", null);
                epoch = get(ack, "position.epoch");
                last = Long.parseLong(get(ack, "position.offset"));
            }
            List<String> offsets = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                HttpResponse<String> r = b.post("/v1/hook", token, publish("events", i));
                assertEquals(200, r.statusCode(), r.body());
                offsets.add(r.headers().firstValue("Courier-Offset").orElseThrow());
                assertEquals(epoch, r.headers().firstValue("Courier-Epoch").orElseThrow());
            }
            cluster.nats.kill();
            cluster.nats.restart();
            awaitCluster(a, "up");
            awaitCluster(b, "up");
            try (WsClient s = a.connect(token)) {
                String ack = subscribe(s, "events", "{\"offset\":" + last + ",\"epoch\":\"" + epoch + "\"}");
                assertEquals("true", get(ack, "recovered"), ack);
                assertEquals(epoch, get(ack, "position.epoch"), "file storage keeps the stream and its epoch");
                for (String offset : offsets) {
                    assertEquals(offset, get(s.next(), "offset"));
                }
                assertNull(s.poll(QUIET));
            }
        }
    }

    @Test
    void aMessageLostBetweenNodesIsToldToTheSubscriberWhoThenRecoversIt() throws Exception {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = up(cluster.node("a"));
            String audience = TestServer.uniqueAudience();
            String token = a.setUp(audience);
            assertEquals(
                    201,
                    a.post("/v1/topic", token, "{\"topic\":\"t\",\"history\":{\"size\":10}}")
                            .statusCode());
            Connection raw = Nats.connect(cluster.nats.url());
            try (WsClient s = a.connect(token)) {
                String epoch = get(subscribe(s, "t", null), "position.epoch");
                a.post("/v1/hook", token, publish("t", 1));
                long first = Long.parseLong(get(s.next(), "offset"));
                // What the node sees when the republished copy of first + 1 never reached it.
                Headers headers = new Headers();
                headers.put("Nats-Sequence", Long.toString(first + 2));
                headers.put("Nats-Last-Sequence", Long.toString(first + 1));
                raw.publish(
                        Subjects.message(audience, "t"), headers, "{\"forged\":1}".getBytes(StandardCharsets.UTF_8));
                raw.flush(Duration.ofSeconds(2));
                String told = s.next();
                assertEquals("error", get(told, "action"), told);
                assertEquals("EHISTORY_GAP", get(told, "code"), told);
                assertEquals("t", get(told, "topic"), told);
                Await.until(s::isClosed, "closed after the error frame");
                assertEquals(3010, s.closeCode());
                assertTrue(ClusterFixture.lostToGaps(a) >= 1, "counted");
                a.post("/v1/hook", token, publish("t", 2));
                try (WsClient back = a.connect(token)) {
                    String ack = subscribe(back, "t", "{\"offset\":" + first + ",\"epoch\":\"" + epoch + "\"}");
                    assertEquals("true", get(ack, "recovered"), ack);
                    assertEquals("2", get(back.next(), "message.n"), "what the stream holds, not the forged copy");
                    assertNull(back.poll(QUIET));
                }
            } finally {
                raw.close();
            }
        }
    }

    /**
     * Node a loses NATS while b publishes to a topic a's subscriber holds: no later message arrives
     * to show the gap, so a looks for it when it is back, and the subscriber is told.
     */
    @Test
    void messagesMissedDuringAnOutageAreToldEvenWhenNoneFollows() {
        try (ClusterFixture cluster = ClusterFixture.start();
                TcpProxy link = new TcpProxy("127.0.0.1", cluster.nats.port())) {
            TestServer a = up(cluster.node(
                    "a",
                    s -> ClusterSettings.of(List.of("nats://127.0.0.1:" + link.port()))
                            .withNodeId("a")));
            TestServer b = up(cluster.node("b"));
            String token = historyTopic(b, "t", 10);
            try (WsClient s = a.connect(token)) {
                String epoch = get(subscribe(s, "t", null), "position.epoch");
                assertEquals(200, b.post("/v1/hook", token, publish("t", 1)).statusCode());
                long first = Long.parseLong(get(s.next(), "offset"));
                link.cut();
                awaitCluster(a, "down");
                assertEquals(200, b.post("/v1/hook", token, publish("t", 2)).statusCode());
                link.restore();
                awaitCluster(a, "up");
                String told = s.next();
                assertEquals("EHISTORY_GAP", get(told, "code"), told);
                Await.until(s::isClosed, "closed after the error frame");
                assertEquals(3010, s.closeCode());
                try (WsClient back = a.connect(token)) {
                    String ack = subscribe(back, "t", "{\"offset\":" + first + ",\"epoch\":\"" + epoch + "\"}");
                    assertEquals("true", get(ack, "recovered"), ack);
                    assertEquals("2", get(back.next(), "message.n"));
                    assertNull(back.poll(QUIET));
                    // Back at once, a still holds the topic's interest: the next message continues the
                    // chain from the stream's last one, so it is delivered, not told as a second gap.
                    assertEquals(200, b.post("/v1/hook", token, publish("t", 3)).statusCode());
                    String next = back.next();
                    assertEquals("3", get(next, "message.n"), next);
                    assertNull(back.poll(QUIET));
                    assertEquals(1.0, ClusterFixture.lostToGaps(a), "told once");
                }
            }
        }
    }

    @Test
    void aHistoryPublishWhileNatsIsDownIsRefused() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = up(cluster.node("a"));
            String token = historyTopic(a, "t", 10);
            cluster.nats.kill();
            awaitCluster(a, "down");
            HttpResponse<String> r = a.post("/v1/hook", token, publish("t", 1));
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("ECLUSTER_UNAVAILABLE", get(r.body(), "error.code"));
            try (WsClient s = a.connect(token)) {
                s.send("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{},\"id\":4}");
                String error = s.next();
                assertEquals("ECLUSTER_UNAVAILABLE", get(error, "code"), error);
                assertEquals("4", get(error, "id"));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static TestServer up(TestServer node) {
        awaitCluster(node, "up");
        Await.until(() -> ((ClusterHistory) node.server().history()).epoch() != null, "the history stream is ready");
        return node;
    }

    private static String historyTopic(TestServer node, String topic, int size) {
        String token = node.setUp(TestServer.uniqueAudience());
        HttpResponse<String> r =
                node.post("/v1/topic", token, "{\"topic\":\"" + topic + "\",\"history\":{\"size\":" + size + "}}");
        assertEquals(201, r.statusCode(), r.body());
        return token;
    }

    /** Subscribes (with {@code since} when not null) and returns the ack. */
    private static String subscribe(WsClient client, String topic, String since) {
        client.send("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":1"
                + (since == null ? "" : ",\"since\":" + since) + "}");
        String ack = client.next();
        assertEquals("ack", get(ack, "action"), ack);
        assertNotNull(get(ack, "position.offset"), ack);
        return ack;
    }

    private static String publish(String topic, int n) {
        return "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"n\":" + n + "}}";
    }
}
