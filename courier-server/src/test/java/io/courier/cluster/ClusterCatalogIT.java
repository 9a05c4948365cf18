package io.courier.cluster;

import static io.courier.cluster.ClusterFanoutIT.hook;
import static io.courier.cluster.ClusterFanoutIT.publish;
import static io.courier.cluster.ClusterFixture.awaitCluster;
import static io.courier.cluster.ClusterFixture.subscribe;
import static io.courier.cluster.ClusterFixture.topicLookups;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.config.HistorySettings;
import io.courier.testing.Await;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The topic catalogue across nodes: a topic created on one node is usable on every other at once;
 * one the nodes never heard of is found in the store on a miss; a flood of one unknown name costs a
 * few store lookups, not one each; and a node cut off from NATS reloads what it missed.
 */
class ClusterCatalogIT {
    @Test
    void aTopicCreatedOnOneNodeIsSubscribableAndPublishableOnTheOthersAtOnce() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            List<TestServer> nodes = List.of(cluster.node("a"), cluster.node("b"), cluster.node("c"));
            nodes.forEach(n -> awaitCluster(n, "up"));
            TestServer a = nodes.get(0);
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x);
            List<WsClient> subscribers = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                String topic = "new." + round;
                HttpResponse<String> created = a.post("/v1/topic", token, "{\"topic\":\"" + topic + "\"}");
                assertEquals(201, created.statusCode(), created.body());
                // Right after the 201, no restart: b and c subscribe, c's hook and b's socket publish.
                WsClient onB = nodes.get(1).connect(token);
                WsClient onC = nodes.get(2).connect(token);
                subscribers.add(onB);
                subscribers.add(onC);
                subscribe(onB, topic, 1);
                subscribe(onC, topic, 1);
                hook(nodes.get(2), token, publish(topic, "c", round));
                onB.send(publish(topic, "b", round));
                for (WsClient s : List.of(onB, onC)) {
                    List<String> frames = List.of(s.next(), s.next());
                    assertTrue(frames.stream().anyMatch(f -> f.contains("\"src\":\"c\"")), frames::toString);
                    assertTrue(frames.stream().anyMatch(f -> f.contains("\"src\":\"b\"")), frames::toString);
                }
            }
            subscribers.forEach(WsClient::close);
        }
    }

    @Test
    void historySettingsTravelWithTheAnnouncementAndTheStoreLookup() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            TestServer b = cluster.node("b");
            awaitCluster(a, "up");
            awaitCluster(b, "up");
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x);
            HttpResponse<String> created =
                    a.post("/v1/topic", token, "{\"topic\":\"events\",\"history\":{\"size\":100,\"ttl\":300}}");
            assertEquals(201, created.statusCode(), created.body());
            Await.until(
                    () -> b.server().hub().topics().history(x, "events").equals(new HistorySettings(100, 300)),
                    "b learned the settings from the announcement");
            cluster.insertTopicBehindTheNodesBack(x, "sneaked", 7, 60);
            try (WsClient subscriber = b.connect(token)) {
                subscriber.send("{\"action\":\"subscribe\",\"topic\":\"sneaked\",\"id\":1}");
                String ack = subscriber.next();
                assertTrue(JsonField.get(ack, "position.offset") != null, "a history topic's ack: " + ack);
            }
            assertEquals(new HistorySettings(7, 60), b.server().hub().topics().history(x, "sneaked"));
        }
    }

    @Test
    void aTopicNoNodeHeardOfIsFoundInTheStoreOnAMiss() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            TestServer b = cluster.node("b");
            awaitCluster(a, "up");
            awaitCluster(b, "up");
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x);
            cluster.insertTopicBehindTheNodesBack(x, "sneaked");
            cluster.insertTopicBehindTheNodesBack(x, "hooked");
            try (WsClient subscriber = b.connect(token)) {
                subscribe(subscriber, "sneaked", 1);
                assertTrue(topicLookups(b) >= 1, "b asked the store");
                // The hook on a misses too, and asks the store before publishing.
                hook(a, token, publish("sneaked", "a", 1));
                assertTrue(subscriber.next().contains("\"src\":\"a\""));
                hook(a, token, publish("hooked", "a", 2));
                subscriber.send(publish("sneaked", "b", 3));
                assertTrue(subscriber.next().contains("\"src\":\"b\""));
                // Still unknown: answered ETOPIC_NOTFOUND after the lookup, on the socket and the hook.
                subscriber.send("{\"action\":\"subscribe\",\"topic\":\"nowhere\",\"id\":9}");
                String error = subscriber.next();
                assertEquals("ETOPIC_NOTFOUND", JsonField.get(error, "code"), error);
                HttpResponse<String> r = a.post("/v1/hook", token, publish("nowhere", "a", 4));
                assertEquals(404, r.statusCode(), r.body());
                assertEquals("ETOPIC_NOTFOUND", JsonField.get(r.body(), "error.code"), r.body());
            }
        }
    }

    @Test
    void aFloodOfOneUnknownNameCostsAFewStoreLookups() {
        int frames = 1000;
        int sockets = 4;
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            awaitCluster(a, "up");
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x);
            double before = topicLookups(a);
            List<WsClient> clients = new ArrayList<>();
            for (int s = 0; s < sockets; s++) {
                clients.add(a.connect(token));
            }
            for (int i = 0; i < frames; i++) {
                WsClient c = clients.get(i % sockets);
                c.send(
                        i % 2 == 0
                                ? "{\"action\":\"subscribe\",\"topic\":\"ghost\",\"id\":" + i + "}"
                                : publish("ghost", "flood", i).replace("}}", "},\"id\":" + i + "}"));
            }
            for (int i = 0; i < frames; i++) {
                String error = clients.get(i % sockets).next();
                assertEquals("ETOPIC_NOTFOUND", JsonField.get(error, "code"), error);
            }
            double lookups = topicLookups(a) - before;
            System.out.printf("catalogue flood: %d refused frames cost %.0f store lookups%n", frames, lookups);
            assertTrue(lookups >= 1, "the first miss asked the store");
            assertTrue(lookups <= 5, "misses are cached and coalesced: " + lookups + " lookups");
            // A creation announced by another node clears the cached miss at once.
            TestServer b = cluster.node("b");
            awaitCluster(b, "up");
            assertEquals(
                    201, b.post("/v1/topic", token, "{\"topic\":\"ghost\"}").statusCode());
            Await.until(() -> a.server().hub().topics().contains(x, "ghost"), "a learned of ghost from b");
            subscribe(clients.get(0), "ghost", 1);
            clients.forEach(WsClient::close);
        }
    }

    @Test
    void aNodeCutOffFromNatsReloadsWhatItMissed() {
        try (ClusterFixture cluster = ClusterFixture.start()) {
            TestServer a = cluster.node("a");
            TestServer b = cluster.node("b");
            awaitCluster(a, "up");
            awaitCluster(b, "up");
            String x = TestServer.uniqueAudience();
            String token = a.setUp(x);

            cluster.nats.kill();
            awaitCluster(a, "down");
            awaitCluster(b, "down");
            assertEquals(
                    201, a.post("/v1/topic", token, "{\"topic\":\"during\"}").statusCode());
            // An announcement lost for good (a node's buffer gone with it): only a reload finds it.
            cluster.insertTopicBehindTheNodesBack(x, "missed");
            cluster.nats.restart();
            awaitCluster(a, "up");
            awaitCluster(b, "up");

            Await.until(
                    () -> b.server().hub().topics().contains(x, "during")
                            && b.server().hub().topics().contains(x, "missed"),
                    "b reloaded the topics created while it was cut off");
            assertEquals(0.0, topicLookups(b), "known without a single miss");
            try (WsClient subscriber = b.connect(token)) {
                subscribe(subscriber, "missed", 1);
                hook(a, token, publish("missed", "a", 1));
                assertTrue(subscriber.next().contains("\"src\":\"a\""));
            }
        }
    }
}
