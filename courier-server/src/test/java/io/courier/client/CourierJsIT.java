package io.courier.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.Chromium;
import io.courier.testing.CourierPage;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * courier.js, as the server serves it, in headless Chromium against a real server. The page comes
 * from {@code http://localhost:PORT} and imports the module from {@code http://127.0.0.1:PORT}: another
 * origin, so the import and every API call are cross-origin, as on an application's own site.
 */
class CourierJsIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static Chromium browser;
    private static CourierPage page;

    @BeforeAll
    static void startBrowser() {
        browser = Chromium.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    /** Opens a page on the server's other origin and imports courier.js from the server. */
    private static void load(TestServer server) {
        page = CourierPage.load(
                browser,
                "http://localhost:" + server.port() + "/healthz",
                server.uri("/client/courier.js").toString(),
                server.uri("").toString());
    }

    private static void giveTokens(String... tokens) {
        page.giveTokens(tokens);
    }

    private static long count(String event) {
        return page.count(event);
    }

    private static String events() {
        return page.events();
    }

    @Test
    void connectsSubscribesReceivesHookPublishesAndPublishesToOtherSockets() {
        try (TestServer server = TestServer.startReachable(Map.of())) {
            String audience = TestServer.uniqueAudience();
            String token = server.setUp(audience, "system/events", "chat");
            load(server);
            giveTokens(token);

            browser.run("""
                    window.c = newClient();
                    c.subscribe("system/events", (m, meta) => t.messages.push({ m, meta }));
                    await c.connect();
                    """);
            assertEquals("connected", browser.eval("return c.state;"));
            assertEquals(audience, browser.eval("return c.audience;"));
            browser.run("await c.subscribe('system/events', () => {}).ready;");

            // A backend publishes through the hook: the browser's handler gets the message and its topic.
            assertEquals(
                    200,
                    server.post(
                                    "/v1/hook",
                                    token,
                                    "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":{\"deploy\":\"done\"}}")
                            .statusCode());
            browser.until("t.messages.length === 1", WAIT, "the hook's message in the browser");
            assertEquals(
                    "{\"m\":{\"deploy\":\"done\"},\"meta\":{\"topic\":\"system/events\"}}",
                    browser.eval("return JSON.stringify(t.messages[0]);"));

            // The browser publishes and broadcasts; another socket receives both; acks resolve.
            try (WsClient other = server.connect(token)) {
                other.send("{\"action\":\"subscribe\",\"topic\":\"chat\",\"id\":1}");
                assertEquals("{\"action\":\"ack\",\"id\":1}", other.next());
                Object ack = browser.run("return (await c.publish('chat', { text: 'hi from chromium' })).action;");
                assertEquals("ack", ack);
                assertEquals(
                        "{\"action\":\"publish\",\"topic\":\"chat\",\"message\":{\"text\":\"hi from chromium\"}}",
                        other.next());
                browser.run("await c.broadcast({ to: 'everyone' });");
                assertEquals("{\"action\":\"broadcast\",\"message\":{\"to\":\"everyone\"}}", other.next());
                browser.until("count('broadcast') === 1", WAIT, "the sender's own copy of the broadcast");
            }

            // The server's error codes reach the application as CourierError.code.
            assertEquals(
                    "ETOPIC_NOTFOUND",
                    browser.run("try { await c.publish('missing', {}); } catch (e) { return e.code; }"));
            assertEquals(
                    "EMESSAGE_INVALID",
                    browser.run("try { await c.publish('chat', 'not an object'); } catch (e) { return e.code; }"));
            assertEquals("ETOPIC_NOTFOUND false", browser.run("""
                            const sub = c.subscribe("missing", () => {});
                            try { await sub.ready; } catch (e) { return e.code + " " + sub.active; }
                            """));
            assertEquals(
                    "ETOPIC_NOTFOUND", browser.eval("return t.events.filter(x => x.e === 'error').at(-1).v.code;"));
            // REST errors carry the code and the status.
            assertEquals(
                    "ETOPIC_EXISTS 409",
                    browser.run("try { await c.createTopic('chat'); } catch (e) { return e.code + ' ' + e.status; }"));

            // Disconnected: publish rejects at once, nothing is queued.
            browser.run("c.disconnect();");
            assertEquals("disconnected", browser.eval("return c.state;"));
            assertEquals(
                    "EDISCONNECTED",
                    browser.run("try { await c.publish('chat', { late: true }); } catch (e) { return e.code; }"));
            assertEquals(1L, count("connected"));
            assertEquals(0L, count("reconnecting"), "disconnect() does not reconnect: " + events());
        }
    }

    @Test
    void serverRestartedUnderTheClientIsReconnectedResubscribedAndDelivers() {
        TestServer server = TestServer.startReachable(Map.of());
        try {
            String audience = TestServer.uniqueAudience();
            String token = server.setUp(audience, "system/events");
            load(server);
            giveTokens(token);
            browser.run("""
                    window.c = newClient();
                    const sub = c.subscribe("system/events", (m) => t.messages.push(m));
                    await c.connect();
                    await sub.ready;
                    """);

            server = server.restart();

            browser.until("count('subscribed') === 2", WAIT, "resubscribed on a second connection after the restart");
            assertEquals(
                    1001L,
                    browser.eval("return t.events.find(x => x.e === 'disconnected').v.code;"),
                    "the restart closed the socket with 1001");
            assertEquals(
                    Boolean.TRUE, browser.eval("return t.events.filter(x => x.e === 'connected')[1].v.reconnect;"));
            assertEquals(2L, count("connected"));
            // Published after the restart: arrives only because the client resubscribed by itself.
            assertEquals(
                    200,
                    server.post(
                                    "/v1/hook",
                                    token,
                                    "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":{\"n\":1}}")
                            .statusCode());
            browser.until("t.messages.length === 1", WAIT, "the message published after the restart");
            assertEquals("{\"n\":1}", browser.eval("return JSON.stringify(t.messages[0]);"));
            assertTrue(count("reconnecting") >= 1, events().toString());
            assertEquals(1L, (Long) browser.eval("return t.tokenCalls;"), "a valid token is not fetched again");
        } finally {
            server.close();
        }
    }

    /**
     * A single node keeps history in memory: after a restart the epoch is new, so the client's
     * resubscribe with {@code since} is answered {@code recovered:false}, the application is told once,
     * and the client goes on under the new epoch (whose offsets start again at 1, below the old ones).
     */
    @Test
    void historyTopicReportsNotRecoveredAfterASingleNodeRestart() {
        TestServer server = TestServer.startReachable(Map.of());
        try {
            String audience = TestServer.uniqueAudience();
            String token = server.setUp(audience);
            assertEquals(
                    201,
                    server.post("/v1/topic", token, "{\"topic\":\"feed\",\"history\":{\"size\":100}}")
                            .statusCode());
            load(server);
            giveTokens(token);
            browser.run("""
                    window.c = newClient();
                    window.sub = c.subscribe("feed", (m, meta) => t.messages.push({ m, meta }));
                    await c.connect();
                    await sub.ready;
                    """);
            String epoch = (String) browser.eval("return sub.position.epoch;");
            assertEquals(0L, browser.eval("return sub.position.offset;"), "an empty topic stands at 0");

            List<Long> offsets = new ArrayList<>();
            for (int n = 1; n <= 3; n++) {
                HttpResponse<String> r = server.post("/v1/hook", token, publish("feed", n));
                assertEquals(200, r.statusCode(), r.body());
                offsets.add(
                        Long.parseLong(r.headers().firstValue("Courier-Offset").orElseThrow()));
            }
            browser.until("t.messages.length === 3", WAIT, "the three hook publishes");
            assertEquals(offsets, browser.eval("return t.messages.map(x => x.meta.offset);"));
            assertTrue(offsets.get(0) < offsets.get(1) && offsets.get(1) < offsets.get(2), offsets.toString());
            assertEquals(List.of(epoch, epoch, epoch), browser.eval("return t.messages.map(x => x.meta.epoch);"));
            assertEquals(List.of(1L, 2L, 3L), browser.eval("return t.messages.map(x => x.m.n);"));
            assertEquals(
                    "{\"offset\":" + offsets.get(2) + ",\"epoch\":\"" + epoch + "\"}",
                    browser.eval("return JSON.stringify(sub.position);"));
            assertEquals(0L, count("recovery"), "a first subscribe has no verdict: " + events());

            server = server.restart();

            browser.until("count('recovery') === 1", WAIT, "the verdict on the resubscribe with since");
            String recovery = (String) browser.eval("return JSON.stringify(t.events.find(x => x.e === 'recovery').v);");
            assertEquals("feed", JsonField.get(recovery, "topic"), recovery);
            assertEquals("false", JsonField.get(recovery, "recovered"), recovery);
            assertEquals(String.valueOf(offsets.get(2)), JsonField.get(recovery, "since.offset"), recovery);
            assertEquals(epoch, JsonField.get(recovery, "since.epoch"), "the client sent what it had: " + recovery);
            String newEpoch = JsonField.get(recovery, "position.epoch");
            assertNotEquals(epoch, newEpoch, "a restarted single node starts a new epoch");
            assertEquals("0", JsonField.get(recovery, "position.offset"), recovery);
            assertEquals(1.0, recoveries(server, "not_recovered"), "the server saw one subscribe with since");

            HttpResponse<String> r = server.post("/v1/hook", token, publish("feed", 4));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(newEpoch, r.headers().firstValue("Courier-Epoch").orElseThrow());
            long offset =
                    Long.parseLong(r.headers().firstValue("Courier-Offset").orElseThrow());
            assertTrue(offset <= offsets.get(2), "offsets start again under the new epoch: " + offset);
            browser.until("t.messages.length === 4", WAIT, "the message published after the restart");
            assertEquals(
                    "{\"m\":{\"n\":4},\"meta\":{\"topic\":\"feed\",\"offset\":" + offset + ",\"epoch\":\"" + newEpoch
                            + "\"}}",
                    browser.eval("return JSON.stringify(t.messages[3]);"),
                    "not dropped as seen although its offset is below the old epoch's");
            assertEquals(
                    "{\"offset\":" + offset + ",\"epoch\":\"" + newEpoch + "\"}",
                    browser.eval("return JSON.stringify(sub.position);"));
            assertEquals(1L, count("recovery"), "told exactly once: " + events());
            assertEquals(2L, count("connected"), events());
        } finally {
            server.close();
        }
    }

    /**
     * A position kept by the application (e.g. across page loads) on a topic that keeps no history:
     * the server answers {@code recovered:false} without a position, the application is told, and the
     * client sends no {@code since} for it again. A malformed {@code since} is refused at once.
     */
    @Test
    void sinceOnATopicWithoutHistoryIsToldNotRecovered() {
        TestServer server = TestServer.startReachable(Map.of());
        try {
            String token = server.setUp(TestServer.uniqueAudience(), "plain");
            load(server);
            giveTokens(token);
            assertEquals("TypeError", browser.run("""
                            try { newClient().subscribe("plain", () => {}, { since: { offset: -1, epoch: "e" } }); }
                            catch (e) { return e.name; }
                            """));
            browser.run("""
                    window.c = newClient();
                    window.sub = c.subscribe("plain", (m, meta) => t.messages.push({ m, meta }), { since: { offset: 7, epoch: "kept" } });
                    await c.connect();
                    await sub.ready;
                    """);
            assertEquals(
                    "{\"topic\":\"plain\",\"recovered\":false,\"since\":{\"offset\":7,\"epoch\":\"kept\"},\"position\":null}",
                    browser.eval("return JSON.stringify(t.events.find(x => x.e === 'recovery').v);"));
            assertEquals(null, browser.eval("return sub.position;"));

            server = server.restart();
            browser.until("count('subscribed') === 2", WAIT, "resubscribed after the restart");
            assertEquals(1L, count("recovery"), "no since the second time, so no verdict: " + events());
            assertEquals(
                    200, server.post("/v1/hook", token, publish("plain", 1)).statusCode());
            browser.until("t.messages.length === 1", WAIT, "a message on the resubscribed topic");
            assertEquals(
                    "{\"m\":{\"n\":1},\"meta\":{\"topic\":\"plain\"}}",
                    browser.eval("return JSON.stringify(t.messages[0]);"));
        } finally {
            server.close();
        }
    }

    private static double recoveries(TestServer server, String result) {
        return server.server()
                .metrics()
                .registry()
                .get("courier.history.recoveries")
                .tag("result", result)
                .counter()
                .count();
    }

    private static String publish(String topic, int n) {
        return "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"n\":" + n + "}}";
    }

    @Test
    void expiredTokenIsRefreshedThroughTheCallback() {
        try (TestServer server = TestServer.startReachable(
                Map.of("courier.ws.close.on.token.expiry", "true", "courier.jwt.clock.skew.seconds", "0"))) {
            String audience = TestServer.uniqueAudience();
            String longLived = server.setUp(audience, "system/events");
            load(server);
            // The first token lives 3 s: the server closes with 4001, and the callback gives the next.
            giveTokens(server.token(audience, Duration.ofSeconds(3)), longLived);
            browser.run("""
                    window.c = newClient();
                    const sub = c.subscribe("system/events", (m) => t.messages.push(m));
                    await c.connect();
                    await sub.ready;
                    """);

            browser.until("count('subscribed') === 2", WAIT, "reconnected with a fresh token and resubscribed");
            assertEquals(4001L, browser.eval("return t.events.find(x => x.e === 'disconnected').v.code;"));
            assertEquals(2L, (Long) browser.eval("return t.tokenCalls;"), "the callback was asked again after 4001");
            server.post(
                    "/v1/hook",
                    longLived,
                    "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":{\"n\":1}}");
            browser.until("t.messages.length === 1", WAIT, "a message on the resubscribed topic");
        }
    }

    @Test
    void tokenRefusedBySignIsRefreshedOnceThenConnects() {
        try (TestServer server = TestServer.startReachable(Map.of("courier.jwt.clock.skew.seconds", "0"))) {
            String audience = TestServer.uniqueAudience();
            String token = server.setUp(audience);
            load(server);
            String expired = server.token(audience, Duration.ofSeconds(1));
            Await.until(() -> server.get("/v1/sign", expired).statusCode() == 401, "the 1 s token expired");
            giveTokens(expired, token);
            browser.run("window.c = newClient(); await c.connect();");

            assertEquals(2L, (Long) browser.eval("return t.tokenCalls;"), "401 on /v1/sign asked for a fresh token");
            assertEquals(0L, count("reconnecting"), "and used it at once: " + events());
        }
    }

    @Test
    void aTokenRefusedEvenFreshStopsTheClient() {
        try (TestServer server = TestServer.startReachable(Map.of())) {
            load(server);
            giveTokens("not-a-jwt");
            assertEquals(
                    "ETOKEN_INVALID disconnected",
                    browser.run(
                            "window.c = newClient(); try { await c.connect(); } catch (e) { return e.code + ' ' + c.state; }"));
            assertEquals(2L, (Long) browser.eval("return t.tokenCalls;"));
        }
    }

    @Test
    void closeCodeThatMeansFixTheClientIsNotRetried() {
        try (TestServer server = TestServer.startReachable(Map.of("courier.ws.max.frame.bytes", "1024"))) {
            String audience = TestServer.uniqueAudience();
            String token = server.setUp(audience, "chat");
            load(server);
            giveTokens(token);
            browser.run("window.c = newClient(); await c.connect();");

            // A frame over courier.ws.max.frame.bytes: the server closes with 1009.
            assertEquals(
                    "EDISCONNECTED",
                    browser.run(
                            "try { await c.publish('chat', { big: 'x'.repeat(4096) }); } catch (e) { return e.code; }"));
            browser.until("count('disconnected') === 1", WAIT, "the 1009 close");
            assertEquals(1009L, browser.eval("return t.events.find(x => x.e === 'disconnected').v.code;"));
            // The decision is taken on the close event itself: no reconnect was scheduled.
            assertEquals("disconnected", browser.eval("return c.state;"));
            assertEquals(0L, count("reconnecting"), events().toString());
            assertEquals("ECLOSED", browser.eval("return t.events.filter(x => x.e === 'error').at(-1).v.code;"));
        }
    }

    @Test
    void worksAgainstTheOriginalCourierEnvelope() {
        try (TestServer server = TestServer.startReachable(Map.of("courier.api.envelope", "data"))) {
            String audience = TestServer.uniqueAudience();
            String token = server.token(audience);
            load(server);
            giveTokens(token);

            Object answer = browser.run("""
                    window.c = newClient();
                    const audience = await c.createAudience();
                    const topic = await c.createTopic("system/events");
                    const topics = await c.topics();
                    await c.connect();
                    return [audience.name, topic.topic, topics.length, c.state].join(" ");
                    """);
            assertEquals(audience + " system/events 1 connected", answer);
            assertEquals(
                    audience,
                    JsonField.get(server.post("/v1/audience", token, "").body(), "data.name"),
                    "the server does wrap");
        }
    }
}
