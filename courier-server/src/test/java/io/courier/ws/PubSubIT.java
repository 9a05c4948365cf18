package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sign, connect, subscribe, publish and broadcast over real sockets. */
class PubSubIT {
    private static final Duration QUIET = Duration.ofMillis(300);

    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @Test
    void signReturnsKeyAndConfiguredUrl() {
        String token = server.setUp(TestServer.uniqueAudience());
        HttpResponse<String> sign = server.get("/v1/sign", token);
        assertEquals(200, sign.statusCode());
        String key = get(sign.body(), "key");
        assertTrue(key.matches("[A-Za-z0-9._-]+"), key);
        assertEquals("ws://localhost:8883/ws?token=" + key, get(sign.body(), "url"));
        assertFalse(sign.body().contains(token), "the key must not carry the bearer token");
    }

    @Test
    void signForMissingAudienceIsNotFound() {
        HttpResponse<String> sign = server.get("/v1/sign", server.token(TestServer.uniqueAudience()));
        assertEquals(404, sign.statusCode());
        assertEquals("EAUD_NOTFOUND", get(sign.body(), "error.code"));
    }

    @Test
    void connectedFrameNamesConnectionAndAudience() {
        String audience = TestServer.uniqueAudience();
        String token = server.setUp(audience);
        String key = get(server.get("/v1/sign", token).body(), "key");
        try (WsClient a = WsClient.connect(server.http(), server.wsUrl(key));
                WsClient b = WsClient.connect(server.http(), server.wsUrl(key))) {
            String first = a.next();
            String second = b.next();
            assertEquals("connected", get(first, "action"));
            assertEquals(audience, get(first, "audience"));
            UUID.fromString(get(first, "id"));
            assertFalse(
                    get(first, "id").equals(get(second, "id")), "each connection has its own id; the key is reusable");
        }
    }

    @Test
    void publishReachesSubscribersByteForByte() {
        String token = server.setUp(TestServer.uniqueAudience(), "system/events");
        try (WsClient sub = server.connect(token);
                WsClient pub = server.connect(token)) {
            sub.send("{\"action\":\"subscribe\",\"topic\":\"system/events\",\"id\":1}");
            assertEquals("{\"action\":\"ack\",\"id\":1}", sub.next());
            String message = "{ \"text\" : \"h\\u00e9llo\",\"n\":1.50e3 ,\"nested\":{\"a\":[1, 2]} }";
            pub.send("{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":" + message + ",\"id\":\"p1\"}");
            assertEquals("{\"action\":\"ack\",\"id\":\"p1\"}", pub.next());
            assertEquals(
                    "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":" + message + "}", sub.next());
            assertNull(pub.poll(QUIET), "a publisher that did not subscribe gets nothing");
        }
    }

    @Test
    void publisherReceivesOwnMessageWhenSubscribed() {
        String token = server.setUp(TestServer.uniqueAudience(), "echo");
        try (WsClient c = server.connect(token)) {
            c.send("{\"action\":\"subscribe\",\"topic\":\"echo\"}");
            c.send("{\"action\":\"publish\",\"topic\":\"echo\",\"message\":{\"x\":1}}");
            assertEquals("{\"action\":\"publish\",\"topic\":\"echo\",\"message\":{\"x\":1}}", c.next());
        }
    }

    @Test
    void commandsWithoutIdGetNoAck() {
        String token = server.setUp(TestServer.uniqueAudience(), "t");
        try (WsClient c = server.connect(token)) {
            c.send("{\"action\":\"subscribe\",\"topic\":\"t\"}");
            c.send("{\"action\":\"unsubscribe\",\"topic\":\"t\"}");
            c.send("{\"action\":\"broadcast\",\"message\":{}}");
            // The broadcast is delivered to the sender itself; no ack precedes it.
            assertEquals("{\"action\":\"broadcast\",\"message\":{}}", c.next());
            assertNull(c.poll(QUIET));
        }
    }

    @Test
    void broadcastReachesEveryConnectionOfTheAudienceOnce() {
        String token = server.setUp(TestServer.uniqueAudience(), "a", "b");
        List<WsClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                clients.add(server.connect(token));
            }
            clients.get(0).send("{\"action\":\"subscribe\",\"topic\":\"a\"}");
            clients.get(0).send("{\"action\":\"subscribe\",\"topic\":\"b\",\"id\":9}");
            assertEquals("{\"action\":\"ack\",\"id\":9}", clients.get(0).next());
            clients.get(1).send("{\"action\":\"broadcast\",\"message\":{\"all\":true}}");
            for (WsClient c : clients) {
                assertEquals("{\"action\":\"broadcast\",\"message\":{\"all\":true}}", c.next());
                assertNull(c.poll(QUIET), "exactly once");
            }
        } finally {
            clients.forEach(WsClient::close);
        }
    }

    @Test
    void audiencesAreIsolated() {
        String tokenA = server.setUp(TestServer.uniqueAudience(), "shared");
        String tokenB = server.setUp(TestServer.uniqueAudience(), "shared");
        try (WsClient a = server.connect(tokenA);
                WsClient b = server.connect(tokenB)) {
            a.send("{\"action\":\"subscribe\",\"topic\":\"shared\",\"id\":1}");
            b.send("{\"action\":\"subscribe\",\"topic\":\"shared\",\"id\":1}");
            a.next();
            b.next();
            a.send("{\"action\":\"publish\",\"topic\":\"shared\",\"message\":{\"from\":\"a\"}}");
            a.send("{\"action\":\"broadcast\",\"message\":{\"from\":\"a\"}}");
            assertEquals("{\"action\":\"publish\",\"topic\":\"shared\",\"message\":{\"from\":\"a\"}}", a.next());
            assertEquals("{\"action\":\"broadcast\",\"message\":{\"from\":\"a\"}}", a.next());
            assertNull(b.poll(QUIET), "nothing crosses audiences");
        }
    }

    @Test
    void messagesFromOnePublisherArriveInOrder() {
        String token = server.setUp(TestServer.uniqueAudience(), "ordered");
        try (WsClient sub1 = server.connect(token);
                WsClient sub2 = server.connect(token);
                WsClient pub = server.connect(token)) {
            for (WsClient s : List.of(sub1, sub2)) {
                s.send("{\"action\":\"subscribe\",\"topic\":\"ordered\",\"id\":0}");
                s.next();
            }
            int n = 2000;
            for (int i = 0; i < n; i++) {
                pub.send("{\"action\":\"publish\",\"topic\":\"ordered\",\"message\":{\"seq\":" + i + "}}");
            }
            for (WsClient s : List.of(sub1, sub2)) {
                for (int i = 0; i < n; i++) {
                    assertEquals(
                            "{\"action\":\"publish\",\"topic\":\"ordered\",\"message\":{\"seq\":" + i + "}}", s.next());
                }
            }
        }
    }

    @Test
    void unsubscribeStopsDeliveryAndRepeatsAreNoOps() {
        String token = server.setUp(TestServer.uniqueAudience(), "t");
        try (WsClient sub = server.connect(token);
                WsClient pub = server.connect(token)) {
            sub.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}");
            sub.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":2}");
            assertEquals("{\"action\":\"ack\",\"id\":1}", sub.next());
            assertEquals("{\"action\":\"ack\",\"id\":2}", sub.next());
            pub.send("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"n\":1}}");
            assertEquals("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"n\":1}}", sub.next());
            assertNull(sub.poll(QUIET), "subscribing twice delivers once");

            sub.send("{\"action\":\"unsubscribe\",\"topic\":\"t\",\"id\":3}");
            sub.send("{\"action\":\"unsubscribe\",\"topic\":\"t\",\"id\":4}");
            assertEquals("{\"action\":\"ack\",\"id\":3}", sub.next());
            assertEquals("{\"action\":\"ack\",\"id\":4}", sub.next());
            pub.send("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"n\":2}}");
            assertNull(sub.poll(QUIET));
        }
    }

    @Test
    void publishFansOutToHundredsOfSubscribersExactly() {
        String token = server.setUp(TestServer.uniqueAudience(), "fan");
        int subscribers = 200;
        int messages = 20;
        List<WsClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < subscribers; i++) {
                WsClient c = server.connect(token);
                c.send("{\"action\":\"subscribe\",\"topic\":\"fan\",\"id\":" + i + "}");
                assertEquals("ack", get(c.next(), "action"));
                clients.add(c);
            }
            try (WsClient pub = server.connect(token)) {
                for (int m = 0; m < messages; m++) {
                    pub.send("{\"action\":\"publish\",\"topic\":\"fan\",\"message\":{\"m\":" + m + "}}");
                }
            }
            for (WsClient c : clients) {
                for (int m = 0; m < messages; m++) {
                    assertEquals(String.valueOf(m), JsonField.get(c.next(), "message.m"));
                }
            }
            for (WsClient c : clients) {
                assertNull(c.poll(Duration.ofMillis(5)), "no duplicates");
            }
        } finally {
            clients.forEach(WsClient::close);
        }
    }

    @Test
    void closingAConnectionRemovesItsSubscriptions() {
        // Its own server: the other tests' clients may still be closing on the shared one.
        try (TestServer own = TestServer.start()) {
            String token = own.setUp(TestServer.uniqueAudience(), "x", "y");
            WsClient c = own.connect(token);
            c.send("{\"action\":\"subscribe\",\"topic\":\"x\"}");
            c.send("{\"action\":\"subscribe\",\"topic\":\"y\",\"id\":1}");
            c.next();
            assertEquals(2, own.server().hub().subscriptions());
            assertEquals(1, own.server().hub().activeAudiences());
            c.close();
            Await.until(() -> own.server().hub().subscriptions() == 0, "subscriptions released");
            Await.until(
                    () -> own.server().hub().activeAudiences() == 0
                            && own.server().hub().connections() == 0,
                    "audience released");
        }
    }
}
