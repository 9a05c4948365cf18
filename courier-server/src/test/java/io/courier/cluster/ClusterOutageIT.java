package io.courier.cluster;

import static io.courier.cluster.ClusterFanoutIT.publish;
import static io.courier.cluster.ClusterFixture.awaitCluster;
import static io.courier.cluster.ClusterFixture.readyz;
import static io.courier.cluster.ClusterFixture.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What nodes do when their NATS dies (SIGKILL) and comes back: readiness, refusals, resumed delivery,
 * and every message lost between nodes counted by the receiver (per-origin sequence gaps).
 */
class ClusterOutageIT {
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    @Test
    void readinessGoesDownAndUpAndDeliveryResumesOnItsOwn() throws Exception {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x, "news");
            TestServer b = cluster.node("b");
            awaitCluster(a, "up");
            awaitCluster(b, "up");
            try (WsClient subscriber = b.connect(token)) {
                subscribe(subscriber, "news", 1);
                // Traffic through the whole outage: the hook on a, one publish after another.
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger next = new AtomicInteger();
                AtomicInteger refused = new AtomicInteger();
                CompletableFuture<Void> traffic = CompletableFuture.runAsync(() -> {
                    while (!stop.get()) {
                        int seq = next.getAndIncrement();
                        HttpResponse<String> r = a.post("/v1/hook", token, publish("news", "a", seq));
                        if (r.statusCode() == 503) {
                            assertEquals("ECLUSTER_UNAVAILABLE", JsonField.get(r.body(), "error.code"), r.body());
                            refused.incrementAndGet();
                        } else {
                            assertEquals(200, r.statusCode(), r.body());
                        }
                    }
                });
                List<Integer> received = new ArrayList<>();
                received.add(seqOf(subscriber.next()));

                cluster.nats.kill();
                awaitCluster(a, "down");
                awaitCluster(b, "down");
                assertEquals(200, a.get("/readyz", null).statusCode(), "a NATS outage keeps the node in rotation");

                cluster.nats.restart();
                awaitCluster(a, "up");
                awaitCluster(b, "up");
                stop.set(true);
                traffic.get(30, TimeUnit.SECONDS);
                int last = next.get() - 1;
                int marker = last + 1;
                HttpResponse<String> r = a.post("/v1/hook", token, publish("news", "a", marker));
                assertEquals(200, r.statusCode(), r.body());
                int seq;
                do {
                    seq = seqOf(subscriber.next());
                    received.add(seq);
                } while (seq != marker);
                for (int i = 1; i < received.size(); i++) {
                    assertTrue(received.get(i) > received.get(i - 1), "in order, no duplicate: " + received);
                }
                int lost = marker + 1 - received.size() - refused.get();
                System.out.printf(
                        "cluster outage: %d published, %d refused (ECLUSTER_UNAVAILABLE), %d delivered, %d lost in flight%n",
                        marker + 1, refused.get(), received.size(), lost);
                // Every message b's subscriber is missing was counted by b as a sequence gap: the
                // marker, published once NATS is back, shows the gap even after the last loss.
                assertEquals(
                        lost,
                        (int) ClusterFixture.lostToGaps(b),
                        "b counted every message it missed (courier_cluster_lost_total{reason=\"gap\"})");
                assertTrue(
                        a.server()
                                        .metrics()
                                        .registry()
                                        .get("courier.cluster.reconnects")
                                        .counter()
                                        .count()
                                >= 1,
                        "a counted its reconnect");
            }
        }
    }

    @Test
    void aPublishNatsCannotBufferIsRefusedBeforeLocalDelivery() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            // A reconnect buffer smaller than any message: refused as soon as NATS is lost.
            TestServer a = cluster.node("a", s -> s.withReconnectBufferBytes(1));
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x, "news");
            awaitCluster(a, "up");
            try (WsClient subscriber = a.connect(token);
                    WsClient publisher = a.connect(token)) {
                subscribe(subscriber, "news", 1);
                cluster.nats.kill();
                awaitCluster(a, "down");

                HttpResponse<String> r = a.post("/v1/hook", token, publish("news", "hook", 1));
                assertEquals(503, r.statusCode(), r.body());
                assertEquals("ECLUSTER_UNAVAILABLE", JsonField.get(r.body(), "error.code"), r.body());
                publisher.send("{\"action\":\"publish\",\"topic\":\"news\",\"message\":{\"seq\":2},\"id\":7}");
                String error = publisher.next();
                assertEquals("error", JsonField.get(error, "action"), error);
                assertEquals("ECLUSTER_UNAVAILABLE", JsonField.get(error, "code"), error);
                assertNull(subscriber.poll(Duration.ofMillis(300)), "a refused publish reaches no local subscriber");
                assertTrue(readyz(a).contains("\"cluster\":\"down\""));
                assertEquals(
                        2.0,
                        a.server()
                                .metrics()
                                .registry()
                                .get("courier.cluster.refused")
                                .counter()
                                .count());

                cluster.nats.restart();
                awaitCluster(a, "up");
                r = a.post("/v1/hook", token, publish("news", "hook", 3));
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(3, seqOf(subscriber.next()), "delivery resumes once NATS is back");
            }
        }
    }

    private static int seqOf(String frame) {
        Matcher m = SEQ.matcher(frame);
        assertTrue(m.find(), frame);
        return Integer.parseInt(m.group(1));
    }
}
