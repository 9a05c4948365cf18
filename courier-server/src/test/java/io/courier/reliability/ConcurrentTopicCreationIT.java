package io.courier.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.testing.JsonField;
import io.courier.testing.JsonList;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many requests create the same topic at the same instant: the database's unique constraint, not a
 * check-then-insert, must decide, so exactly one wins (201) and every other gets 409 ETOPIC_EXISTS.
 * Runs on embedded H2 always and on PostgreSQL when {@code COURIER_TEST_DATABASE_URL} is set.
 */
class ConcurrentTopicCreationIT {
    private static final int PARALLEL = 50;
    private static final int ROUNDS = 3;

    @Test
    void sameTopicCreatedInParallelOnH2YieldsOneTopic() throws Exception {
        try (TestServer server = TestServer.start()) {
            race(server);
        }
    }

    @Test
    void sameTopicCreatedInParallelOnPostgresYieldsOneTopic() throws Exception {
        assumeTrue(TestPostgres.url().isPresent(), TestPostgres::skipReason);
        String namespace = TestPostgres.freshNamespace("courier_rel_");
        try (TestServer server = TestServer.start(
                Map.of("courier.database.url", TestPostgres.url().get(), "courier.database.namespace", namespace))) {
            race(server);
        } finally {
            TestPostgres.drop(namespace);
        }
    }

    /** {@link #ROUNDS} races of {@link #PARALLEL} requests, each round on a fresh topic name. */
    private static void race(TestServer server) throws Exception {
        String audience = TestServer.uniqueAudience();
        String token = server.setUp(audience);
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
        try {
            List<String> created = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                String topic = "race/" + round;
                CyclicBarrier start = new CyclicBarrier(PARALLEL);
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < PARALLEL; i++) {
                    answers.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return server.post("/v1/topic", token, "{\"topic\":\"" + topic + "\"}");
                    }));
                }
                Map<String, Integer> outcomes = new TreeMap<>();
                String winnerId = null;
                for (Future<HttpResponse<String>> f : answers) {
                    HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                    String code = r.statusCode() == 201
                            ? "201"
                            : r.statusCode() + " " + JsonField.get(r.body(), "error.code");
                    outcomes.merge(code, 1, Integer::sum);
                    if (r.statusCode() == 201) {
                        winnerId = JsonField.get(r.body(), "id");
                        assertEquals(topic, JsonField.get(r.body(), "topic"), r.body());
                    }
                }
                assertEquals(
                        Map.of("201", 1, "409 ETOPIC_EXISTS", PARALLEL - 1),
                        outcomes,
                        "round " + round + ": " + PARALLEL + " parallel POST /v1/topic of '" + topic + "'");
                created.add(topic);

                HttpResponse<String> list = server.get("/v1/topic", token);
                assertEquals(200, list.statusCode(), list.body());
                List<String> names = JsonList.field(list.body(), "topic");
                assertEquals(created, names, "each raced topic is listed exactly once, oldest first");
                assertEquals(
                        winnerId,
                        JsonList.objects(list.body()).get(round).get("id"),
                        "the listed topic is the one the 201 returned");
            }
            // The winner's topic is usable at once: the catalogue learned it exactly once.
            try (WsClient c = server.connect(token)) {
                c.send("{\"action\":\"subscribe\",\"topic\":\"race/0\",\"id\":1}");
                assertEquals("{\"action\":\"ack\",\"id\":1}", c.next());
                c.send("{\"action\":\"publish\",\"topic\":\"race/0\",\"message\":{\"n\":1}}");
                assertEquals("{\"action\":\"publish\",\"topic\":\"race/0\",\"message\":{\"n\":1}}", c.next());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
