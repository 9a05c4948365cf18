package io.courier.history;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.ServerClient;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * History and recovery on one node over real sockets: offsets on deliveries, a subscriber that
 * reconnects with {@code since} gets every missed offset once and in order and then live ones, and
 * a position that cannot be served in full (size, TTL, recovery limit, restart, foreign epoch) is
 * answered {@code recovered:false} with nothing replayed.
 */
class HistoryIT {
    private static final Duration QUIET = Duration.ofMillis(300);
    private static final int RECOVERY_LIMIT = 500;

    @RegisterExtension
    static final CourierExtension server =
            CourierExtension.with(Map.of("courier.history.recovery.limit", Integer.toString(RECOVERY_LIMIT)));

    @Test
    void aSubscriberThatReconnectsWithSinceGetsEveryMissedOffsetOnceInOrderThenLive() {
        String token = historyTopic(server, "events", 100, 300);
        String epoch;
        try (WsClient sub = server.connect(token);
                WsClient pub = server.connect(token)) {
            sub.send("{\"action\":\"subscribe\",\"topic\":\"events\",\"id\":7}");
            String ack = sub.next();
            assertEquals("ack", get(ack, "action"), ack);
            assertEquals("7", get(ack, "id"));
            assertEquals("0", get(ack, "position.offset"), ack);
            assertNull(get(ack, "recovered"), "no since, no verdict");
            epoch = get(ack, "position.epoch");
            for (int i = 1; i <= 5; i++) {
                pub.send(publish("events", i));
            }
            for (int i = 1; i <= 5; i++) {
                assertEquals(
                        "{\"action\":\"publish\",\"topic\":\"events\",\"message\":{\"n\":" + i + "},\"offset\":" + i
                                + "}",
                        sub.next());
            }
        }
        try (WsClient pub = server.connect(token)) {
            for (int i = 6; i <= 15; i++) {
                pub.send(publish("events", i));
            }
            Await.until(() -> lastOffset(server, token, "events") == 15, "15 published");
            try (WsClient back = server.connect(token)) {
                back.send("{\"action\":\"subscribe\",\"topic\":\"events\",\"id\":8,\"since\":{\"offset\":5,\"epoch\":\""
                        + epoch + "\"}}");
                String ack = back.next();
                assertEquals(
                        "{\"action\":\"ack\",\"id\":8,\"topic\":\"events\",\"position\":{\"offset\":15,\"epoch\":\""
                                + epoch + "\"},\"recovered\":true}",
                        ack);
                for (int i = 6; i <= 15; i++) {
                    String frame = back.next();
                    assertEquals(Integer.toString(i), get(frame, "offset"), frame);
                    assertEquals(Integer.toString(i), get(frame, "message.n"), frame);
                }
                pub.send(publish("events", 16));
                assertEquals("16", get(back.next(), "offset"), "then live");
                assertNull(back.poll(QUIET), "nothing twice");
            }
        }
    }

    @Test
    void aSubscriberThatMissedNothingIsRecoveredWithNothingToReplay() {
        String token = historyTopic(server, "t", 10, 300);
        try (WsClient c = server.connect(token)) {
            c.send("{\"action\":\"subscribe\",\"topic\":\"t\"}");
            String ack = c.next();
            assertEquals("ack", get(ack, "action"), "a history subscribe is answered even without an id");
            assertNull(get(ack, "id"));
            assertEquals("t", get(ack, "topic"));
            c.send(publish("t", 1));
            assertEquals("1", get(c.next(), "offset"));
            String epoch = get(ack, "position.epoch");
            try (WsClient again = server.connect(token)) {
                again.send(since("t", 1, epoch, 2));
                String answer = again.next();
                assertEquals("true", get(answer, "recovered"), answer);
                assertEquals("1", get(answer, "position.offset"));
                assertNull(again.poll(QUIET));
            }
        }
    }

    @Test
    void aPositionEvictedBySizeIsNotRecoveredAndNothingIsReplayed() {
        double notRecoveredBefore = recoveries("not_recovered");
        String token = historyTopic(server, "small", 5, 300);
        String epoch = position(server, token, "small").epoch();
        publishByHook(server, token, "small", 10);
        try (WsClient c = server.connect(token)) {
            c.send(since("small", 2, epoch, 1));
            String ack = c.next();
            assertEquals("false", get(ack, "recovered"), ack);
            assertEquals("10", get(ack, "position.offset"), "the ack tells where to go on from");
            assertNull(c.poll(QUIET), "never a partial recovery");
            assertTrue(recoveries("not_recovered") > notRecoveredBefore, "counted");
            publishByHook(server, token, "small", 1);
            assertEquals("11", get(c.next(), "offset"), "live from the position on");
        }
        try (WsClient c = server.connect(token)) {
            c.send(since("small", 6, epoch, 1)); // 7..11 are the five kept
            assertEquals("true", get(c.next(), "recovered"));
            for (int i = 7; i <= 11; i++) {
                assertEquals(Integer.toString(i), get(c.next(), "offset"));
            }
        }
    }

    @Test
    void aPositionEvictedByTtlIsNotRecovered() {
        String token = historyTopic(server, "brief", 100, 1);
        String epoch = position(server, token, "brief").epoch();
        publishByHook(server, token, "brief", 3);
        Await.until(
                () -> server.get("/v1/history?topic=brief", token).body().contains("\"publications\":[]"),
                Duration.ofSeconds(10),
                "the messages expired");
        try (WsClient c = server.connect(token)) {
            c.send(since("brief", 1, epoch, 1));
            String ack = c.next();
            assertEquals("false", get(ack, "recovered"), ack);
            assertNull(c.poll(QUIET));
        }
    }

    @Test
    void aPositionFurtherBehindThanTheRecoveryLimitIsNotRecovered() {
        String token = historyTopic(server, "long", 1000, 300);
        String epoch = position(server, token, "long").epoch();
        publishByHook(server, token, "long", RECOVERY_LIMIT + 1);
        try (WsClient c = server.connect(token)) {
            c.send(since("long", 0, epoch, 1));
            String ack = c.next();
            assertEquals("false", get(ack, "recovered"), ack);
            assertNull(c.poll(QUIET));
        }
        try (WsClient c = server.connect(token)) {
            c.send(since("long", 1, epoch, 1)); // exactly the limit behind
            assertEquals("true", get(c.next(), "recovered"));
            assertEquals(RECOVERY_LIMIT, c.take(RECOVERY_LIMIT).size());
        }
    }

    @Test
    void aForeignEpochOrAFutureOffsetIsNotRecovered() {
        String token = historyTopic(server, "e", 10, 300);
        Position at = position(server, token, "e");
        publishByHook(server, token, "e", 2);
        try (WsClient c = server.connect(token)) {
            c.send(since("e", 0, "another-epoch", 1));
            assertEquals("false", get(c.next(), "recovered"));
            c.send("{\"action\":\"unsubscribe\",\"topic\":\"e\"}");
            c.send(since("e", 3, at.epoch(), 2));
            String ack = c.next();
            assertEquals("false", get(ack, "recovered"), "offset 3 was never handed out: " + ack);
            assertNull(c.poll(QUIET));
        }
    }

    @Test
    void sinceOnATopicWithoutHistoryIsAnsweredNotRecovered() {
        String token = server.setUp(TestServer.uniqueAudience(), "plain");
        try (WsClient c = server.connect(token)) {
            c.send("{\"action\":\"subscribe\",\"topic\":\"plain\",\"since\":{\"offset\":3,\"epoch\":\"x\"}}");
            assertEquals("{\"action\":\"ack\",\"topic\":\"plain\",\"recovered\":false}", c.next());
            c.send(publish("plain", 1));
            assertEquals(
                    "{\"action\":\"publish\",\"topic\":\"plain\",\"message\":{\"n\":1}}",
                    c.next(),
                    "no offset on a topic without history");
        }
    }

    @Test
    void aMalformedSinceIsRefused() {
        String token = historyTopic(server, "m", 10, 300);
        try (WsClient c = server.connect(token)) {
            for (String since : List.of(
                    "3",
                    "{\"offset\":-1,\"epoch\":\"e\"}",
                    "{\"offset\":1}",
                    "{\"epoch\":\"e\"}",
                    "{\"offset\":\"1\",\"epoch\":\"e\"}",
                    "{\"offset\":1.5,\"epoch\":\"e\"}",
                    "{\"offset\":1,\"epoch\":2}",
                    "{\"offset\":1,\"epoch\":\"e\",\"extra\":1}")) {
                c.send("{\"action\":\"subscribe\",\"topic\":\"m\",\"id\":1,\"since\":" + since + "}");
                String error = c.next();
                assertEquals("error", get(error, "action"), since);
                assertEquals("EHISTORY_INVALID", get(error, "code"), since);
            }
            c.send(publish("m", 1));
            assertNull(c.poll(QUIET), "the refused subscribes took no effect");
        }
    }

    @Test
    void aRepeatedSubscribeIsAnsweredAndChangesNothing() {
        String token = historyTopic(server, "r", 10, 300);
        try (WsClient c = server.connect(token)) {
            c.send("{\"action\":\"subscribe\",\"topic\":\"r\",\"id\":1}");
            c.next();
            c.send(publish("r", 1));
            c.next();
            c.send("{\"action\":\"subscribe\",\"topic\":\"r\",\"id\":2}");
            assertEquals("{\"action\":\"ack\",\"id\":2,\"topic\":\"r\"}", c.next());
            c.send("{\"action\":\"subscribe\",\"topic\":\"r\",\"since\":{\"offset\":0,\"epoch\":\"x\"}}");
            assertEquals("{\"action\":\"ack\",\"topic\":\"r\"}", c.next(), "no verdict, no replay");
            c.send(publish("r", 2));
            assertEquals("2", get(c.next(), "offset"), "still subscribed, once");
            assertNull(c.poll(QUIET));
        }
    }

    @Test
    void theHookAnswersAsBeforeWithOffsetAndEpochHeaders() {
        String token = historyTopic(server, "h", 10, 300);
        String body = "{\"action\":\"publish\",\"topic\":\"h\",\"message\":{\"a\":1}}";
        HttpResponse<String> first = server.post("/v1/hook", token, body);
        HttpResponse<String> second = server.post("/v1/hook", token, body);
        assertEquals(200, first.statusCode());
        assertEquals(body, first.body(), "the body is the request object, as for every topic");
        assertEquals("1", first.headers().firstValue("Courier-Offset").orElseThrow());
        assertEquals("2", second.headers().firstValue("Courier-Offset").orElseThrow());
        assertEquals(
                first.headers().firstValue("Courier-Epoch").orElseThrow(),
                second.headers().firstValue("Courier-Epoch").orElseThrow());
        String plain = server.setUp(TestServer.uniqueAudience(), "p");
        HttpResponse<String> noHistory =
                server.post("/v1/hook", plain, "{\"action\":\"publish\",\"topic\":\"p\",\"message\":{\"a\":1}}");
        assertTrue(noHistory.headers().firstValue("Courier-Offset").isEmpty());
    }

    @Test
    void historyApiReturnsRetainedMessagesOldestFirst() {
        String token = historyTopic(server, "api", 3, 300);
        publishByHook(server, token, "api", 5);
        String epoch = position(server, token, "api").epoch();
        assertEquals(
                "{\"topic\":\"api\",\"epoch\":\"" + epoch + "\",\"publications\":[{\"offset\":3,\"message\":{\"n\":3}},"
                        + "{\"offset\":4,\"message\":{\"n\":4}},{\"offset\":5,\"message\":{\"n\":5}}]}",
                server.get("/v1/history?topic=api", token).body());
        assertEquals(
                "{\"topic\":\"api\",\"epoch\":\"" + epoch
                        + "\",\"publications\":[{\"offset\":4,\"message\":{\"n\":4}}]}",
                server.get("/v1/history?topic=api&since=3&limit=1", token).body());
        String plain = server.setUp(TestServer.uniqueAudience(), "p");
        assertError(server.get("/v1/history?topic=p", plain), 422, "EHISTORY_INVALID");
        assertError(server.get("/v1/history?topic=nope", token), 404, "ETOPIC_NOTFOUND");
        assertError(server.get("/v1/history", token), 422, "ETOPIC_INVALID");
        assertError(server.get("/v1/history?topic=api&since=-1", token), 422, "EHISTORY_INVALID");
        assertError(server.get("/v1/history?topic=api&limit=0", token), 422, "EHISTORY_INVALID");
        assertError(server.get("/v1/history?topic=api&limit=1001", token), 422, "EHISTORY_INVALID");
        assertError(server.get("/v1/history?topic=api", null), 401, "ETOKEN_INVALID");
        // Another audience's topic of the same name is another topic.
        String other = historyTopic(server, "api", 3, 300);
        assertTrue(server.get("/v1/history?topic=api", other).body().contains("\"publications\":[]"));
    }

    @Test
    void afterARestartRecoveryHonestlyAnswersNotRecovered() {
        try (TestServer first = TestServer.start()) {
            String token = historyTopic(first, "events", 100, 300);
            publishByHook(first, token, "events", 3);
            Position before = position(first, token, "events");
            try (TestServer second = first.restart()) {
                try (WsClient c = second.connect(token)) {
                    c.send(since("events", 2, before.epoch(), 1));
                    String ack = c.next();
                    assertEquals("false", get(ack, "recovered"), ack);
                    assertNotEquals(before.epoch(), get(ack, "position.epoch"), "a new start is a new epoch");
                    assertEquals("0", get(ack, "position.offset"));
                    assertNull(c.poll(QUIET));
                }
            }
        }
    }

    /**
     * 100 clients recover the same topic from one position at once while a publisher goes on:
     * each gets an ack with {@code recovered:true}, then every offset after the position exactly
     * once and in order, up to the last one published.
     */
    @Test
    void aHundredConcurrentRecoveriesWhilePublishingContinueHaveNoGapAndNoDuplicate() throws Exception {
        int clients = 100;
        int before = 50;
        int during = 300;
        String token = historyTopic(server, "crowd", 1000, 300);
        publishByHook(server, token, "crowd", before);
        Position from = position(server, token, "crowd");
        List<WsClient> crowd = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (WsClient publisher = server.connect(token)) {
            for (int i = 0; i < clients; i++) {
                crowd.add(server.connect(token));
            }
            Future<?> publishing = pool.submit(() -> {
                for (int i = 1; i <= during; i++) {
                    publisher.send(publish("crowd", before + i));
                    if (i % 10 == 0) {
                        // Paced so that recoveries overlap the publishing rather than follow it.
                        Thread.sleep(5);
                    }
                }
                return null;
            });
            List<Future<List<Long>>> results = new ArrayList<>();
            for (WsClient c : crowd) {
                results.add(pool.submit(() -> {
                    c.send(since("crowd", from.offset(), from.epoch(), 1));
                    String ack = c.next();
                    assertEquals("true", get(ack, "recovered"), ack);
                    List<Long> offsets = new ArrayList<>();
                    long last = from.offset();
                    while (last < before + during) {
                        String frame = c.next();
                        last = Long.parseLong(get(frame, "offset"));
                        offsets.add(last);
                    }
                    return offsets;
                }));
            }
            publishing.get(60, TimeUnit.SECONDS);
            for (Future<List<Long>> result : results) {
                List<Long> offsets = result.get(60, TimeUnit.SECONDS);
                assertEquals(before + during - from.offset(), offsets.size(), "no gap, no duplicate");
                for (int i = 0; i < offsets.size(); i++) {
                    assertEquals(from.offset() + 1 + i, offsets.get(i), "in order");
                }
            }
            for (WsClient c : crowd) {
                assertNull(c.poll(Duration.ofMillis(20)), "nothing after the last");
            }
        } finally {
            pool.shutdownNow();
            crowd.forEach(WsClient::close);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** A new audience with one history topic; returns its token. */
    static String historyTopic(ServerClient server, String topic, int size, int ttl) {
        String token = server.setUp(TestServer.uniqueAudience());
        HttpResponse<String> r = server.post(
                "/v1/topic",
                token,
                "{\"topic\":\"" + topic + "\",\"history\":{\"size\":" + size + ",\"ttl\":" + ttl + "}}");
        assertEquals(201, r.statusCode(), r.body());
        return token;
    }

    static String publish(String topic, int n) {
        return "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"n\":" + n + "}}";
    }

    static String since(String topic, long offset, String epoch, int id) {
        return "{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + id + ",\"since\":{\"offset\":" + offset
                + ",\"epoch\":\"" + epoch + "\"}}";
    }

    /** Publishes messages numbered from the topic's next offset, through the hook. */
    static void publishByHook(ServerClient server, String token, String topic, int count) {
        long last = lastOffset(server, token, topic);
        for (int i = 1; i <= count; i++) {
            HttpResponse<String> r = server.post("/v1/hook", token, publish(topic, (int) (last + i)));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(
                    Long.toString(last + i),
                    r.headers().firstValue("Courier-Offset").orElse(null));
        }
    }

    /** The topic's position, from the ack of a subscribe on a connection of its own. */
    static Position position(ServerClient server, String token, String topic) {
        try (WsClient c = server.connect(token)) {
            c.send("{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":0}");
            String ack = c.next();
            return new Position(Long.parseLong(get(ack, "position.offset")), get(ack, "position.epoch"));
        }
    }

    static long lastOffset(ServerClient server, String token, String topic) {
        return position(server, token, topic).offset();
    }

    private static double recoveries(String result) {
        return server.server()
                .metrics()
                .registry()
                .get("courier.history.recoveries")
                .tag("result", result)
                .counter()
                .count();
    }

    private static void assertError(HttpResponse<String> r, int status, String code) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, get(r.body(), "error.code"), r.body());
    }
}
