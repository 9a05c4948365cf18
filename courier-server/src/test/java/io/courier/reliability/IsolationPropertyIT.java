package io.courier.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A randomised, model-based test of who receives what. Three audiences share topic names; clients
 * connect and disconnect, subscribe and unsubscribe, publish and broadcast over their sockets, and
 * backends publish and broadcast through the hook, in a seeded random interleaving. A model
 * predicts every delivery; at the end each client must have received exactly its predicted
 * deliveries: nothing from another audience, no duplicate, no loss, and each publisher's messages
 * in the order sent.
 *
 * <p>Timing rules the model relies on, from the README: a subscription change takes effect when it
 * is acknowledged, so every operation waits for its ack (or 200) before the next. Deliveries to
 * other clients may still be on their way; before any change of who is subscribed or connected the
 * test waits until every open client has received what the model predicts so far (a message in
 * flight is not attributed to a membership that changed after it was acknowledged).
 *
 * <p>Reproduce with {@code -Dcourier.isolation.seed=SEED} (printed on failure); size with
 * {@code -Dcourier.isolation.ops=N} (default 400).
 */
class IsolationPropertyIT {
    private static final long SEED = Long.getLong("courier.isolation.seed", new SecureRandom().nextLong());
    private static final int OPS = Integer.getInteger("courier.isolation.ops", 400);
    private static final int MAX_OPEN = 12;
    private static final List<String> SHARED_TOPICS = List.of("news", "chat", "ops/alerts");
    private static final Pattern SOURCE = Pattern.compile("\"message\":\\{\"op\":(\\d+),\"from\":\"([^\"]+)\"}");

    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    /** One audience: its name, token and topics (the shared names plus one of its own). */
    private record Audience(int index, String name, String token, List<String> topics) {}

    /** One client as the model sees it, and what it actually received. */
    private static final class Client {
        final String name;
        final Audience audience;
        final WsClient ws;
        final Set<String> subscriptions = new LinkedHashSet<>();
        final List<String> expected = new ArrayList<>();
        final List<String> received = new ArrayList<>();
        boolean open = true;

        Client(String name, Audience audience, WsClient ws) {
            this.name = name;
            this.audience = audience;
            this.ws = ws;
        }

        @Override
        public String toString() {
            return name + "@" + audience.index() + (open ? "" : " (closed)") + " subs=" + subscriptions;
        }
    }

    private final List<Audience> audiences = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private final Map<String, Integer> counts = new TreeMap<>();
    private final List<String> trace = new ArrayList<>();
    private int op;

    @Test
    void everyClientReceivesExactlyWhatTheModelPredicts() {
        try {
            run();
        } catch (AssertionError | RuntimeException e) {
            int from = Math.max(0, trace.size() - 15);
            throw new AssertionError(
                    "[seed " + SEED + ", rerun with -Dcourier.isolation.seed=" + SEED + "] at op " + op + ": "
                            + e.getMessage() + "\nlast operations:\n  "
                            + String.join("\n  ", trace.subList(from, trace.size())),
                    e);
        } finally {
            clients.stream().filter(c -> c.open).forEach(c -> c.ws.close());
        }
    }

    private void run() {
        Random rnd = new Random(SEED);
        for (int a = 0; a < 3; a++) {
            List<String> topics = new ArrayList<>(SHARED_TOPICS);
            topics.add("own/" + a);
            String name = TestServer.uniqueAudience();
            audiences.add(new Audience(a, name, server.setUp(name, topics.toArray(new String[0])), topics));
        }
        for (Audience a : audiences) {
            connect(a);
            connect(a);
        }
        for (op = 0; op < OPS; op++) {
            List<Client> open = clients.stream().filter(c -> c.open).toList();
            int pick = rnd.nextInt(100);
            if (open.isEmpty() || pick < 8 && open.size() < MAX_OPEN) {
                connect(audiences.get(rnd.nextInt(audiences.size())));
            } else if (pick < 13 && open.size() > 1) {
                disconnect(open.get(rnd.nextInt(open.size())));
            } else if (pick < 30) {
                Client c = open.get(rnd.nextInt(open.size()));
                subscribe(
                        c,
                        c.audience.topics().get(rnd.nextInt(c.audience.topics().size())));
            } else if (pick < 38) {
                Client c = open.get(rnd.nextInt(open.size()));
                // Mostly held topics; sometimes one not held (a no-op that is still acknowledged).
                List<String> pool = c.subscriptions.isEmpty() || rnd.nextInt(4) == 0
                        ? c.audience.topics()
                        : List.copyOf(c.subscriptions);
                unsubscribe(c, pool.get(rnd.nextInt(pool.size())));
            } else if (pick < 63) {
                Client c = open.get(rnd.nextInt(open.size()));
                publish(
                        c,
                        c.audience.topics().get(rnd.nextInt(c.audience.topics().size())));
            } else if (pick < 71) {
                broadcast(open.get(rnd.nextInt(open.size())));
            } else if (pick < 84) {
                Audience a = audiences.get(rnd.nextInt(audiences.size()));
                hookPublish(a, a.topics().get(rnd.nextInt(a.topics().size())));
            } else if (pick < 90) {
                hookBroadcast(audiences.get(rnd.nextInt(audiences.size())));
            } else {
                foreignTopic(open.get(rnd.nextInt(open.size())), rnd);
            }
            if (op % 50 == 49) {
                quiesce();
                assertHubMatchesModel();
            }
        }
        quiesce();
        assertHubMatchesModel();
        for (Client c : clients) {
            if (c.open) {
                for (String m; (m = c.ws.poll(Duration.ofMillis(100))) != null; ) {
                    take(c, m); // late duplicates would show up here
                }
            }
            assertReceivedAsModelled(c);
        }
        System.out.printf(
                "isolation: seed=%d ops=%d clients=%d operations=%s deliveries=%d%n",
                SEED,
                OPS,
                clients.size(),
                counts,
                clients.stream().mapToInt(c -> c.received.size()).sum());
    }

    // ---------------------------------------------------------------- operations

    private void connect(Audience a) {
        quiesce(); // a broadcast still in flight must not count for the newcomer
        Client c = new Client("c" + clients.size(), a, server.connect(a.token()));
        clients.add(c);
        note("connect " + c);
    }

    private void disconnect(Client c) {
        quiesce();
        c.ws.close();
        c.open = false;
        for (String m; (m = c.ws.poll(Duration.ZERO)) != null; ) {
            take(c, m);
        }
        note("disconnect " + c);
    }

    private void subscribe(Client c, String topic) {
        quiesce();
        expectAck(c, "{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + op + "}");
        c.subscriptions.add(topic);
        note("subscribe " + c.name + " " + topic);
    }

    private void unsubscribe(Client c, String topic) {
        quiesce();
        expectAck(c, "{\"action\":\"unsubscribe\",\"topic\":\"" + topic + "\",\"id\":" + op + "}");
        c.subscriptions.remove(topic);
        note("unsubscribe " + c.name + " " + topic);
    }

    private void publish(Client c, String topic) {
        String message = message(c.name);
        expectAck(
                c,
                "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + ",\"id\":" + op + "}");
        deliverToSubscribers(c.audience, topic, message);
        note("publish " + c.name + " " + topic + " " + message);
    }

    private void broadcast(Client c) {
        String message = message(c.name);
        expectAck(c, "{\"action\":\"broadcast\",\"message\":" + message + ",\"id\":" + op + "}");
        deliverToAll(c.audience, message);
        note("broadcast " + c.name + " " + message);
    }

    private void hookPublish(Audience a, String topic) {
        String message = message("hook" + a.index());
        HttpResponse<String> r = server.post(
                "/v1/hook",
                a.token(),
                "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + "}");
        assertEquals(200, r.statusCode(), "hook publish: " + r.body());
        deliverToSubscribers(a, topic, message);
        note("hook publish " + a.index() + " " + topic + " " + message);
    }

    private void hookBroadcast(Audience a) {
        String message = message("hook" + a.index());
        HttpResponse<String> r =
                server.post("/v1/hook", a.token(), "{\"action\":\"broadcast\",\"message\":" + message + "}");
        assertEquals(200, r.statusCode(), "hook broadcast: " + r.body());
        deliverToAll(a, message);
        note("hook broadcast " + a.index() + " " + message);
    }

    /** Another audience's own topic: neither subscribing to it nor publishing to it may reach that audience. */
    private void foreignTopic(Client c, Random rnd) {
        Audience other = audiences.get((c.audience.index() + 1 + rnd.nextInt(audiences.size() - 1)) % audiences.size());
        String topic = "own/" + other.index();
        boolean viaHook = rnd.nextBoolean();
        String message = message(viaHook ? "hook" + c.audience.index() : c.name);
        if (rnd.nextBoolean()) {
            expectError(
                    c, "{\"action\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":" + op + "}", "ETOPIC_NOTFOUND");
            note("foreign subscribe " + c.name + " " + topic);
        } else if (viaHook) {
            HttpResponse<String> r = server.post(
                    "/v1/hook",
                    c.audience.token(),
                    "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + "}");
            assertEquals(404, r.statusCode(), "hook publish to another audience's topic: " + r.body());
            assertEquals("ETOPIC_NOTFOUND", JsonField.get(r.body(), "error.code"));
            note("foreign hook publish " + c.audience.index() + " " + topic);
        } else {
            expectError(
                    c,
                    "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + ",\"id\":" + op
                            + "}",
                    "ETOPIC_NOTFOUND");
            note("foreign publish " + c.name + " " + topic);
        }
    }

    private String message(String from) {
        return "{\"op\":" + op + ",\"from\":\"" + from + "\"}";
    }

    private void deliverToSubscribers(Audience a, String topic, String message) {
        String frame = "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":" + message + "}";
        for (Client c : clients) {
            if (c.open && c.audience == a && c.subscriptions.contains(topic)) {
                c.expected.add(frame);
            }
        }
    }

    private void deliverToAll(Audience a, String message) {
        String frame = "{\"action\":\"broadcast\",\"message\":" + message + "}";
        for (Client c : clients) {
            if (c.open && c.audience == a) {
                c.expected.add(frame);
            }
        }
    }

    private void note(String what) {
        String[] words = what.split(" ");
        counts.merge(
                words[0].equals("hook") || words[0].equals("foreign") ? words[0] + " " + words[1] : words[0],
                1,
                Integer::sum);
        trace.add(op + ": " + what);
    }

    // ---------------------------------------------------------------- reading

    /** Sends {@code frame} and reads until its ack; deliveries meanwhile are kept. */
    private void expectAck(Client c, String frame) {
        String answer = send(c, frame);
        assertEquals("{\"action\":\"ack\",\"id\":" + op + "}", answer, c.name + " sent " + frame);
    }

    private void expectError(Client c, String frame, String code) {
        String answer = send(c, frame);
        assertEquals("error", JsonField.get(answer, "action"), c.name + " sent " + frame + ", got " + answer);
        assertEquals(code, JsonField.get(answer, "code"), c.name + " sent " + frame + ", got " + answer);
        assertEquals(Integer.toString(op), JsonField.get(answer, "id"));
    }

    /** The first answer (ack or error) to {@code frame}. */
    private String send(Client c, String frame) {
        c.ws.send(frame);
        long deadline = System.nanoTime() + WsClient.WAIT.toNanos();
        while (true) {
            String m = c.ws.poll(Duration.ofMillis(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            if (m == null) {
                throw new AssertionError(c + ": no answer to " + frame + " within " + WsClient.WAIT
                        + (c.ws.isClosed() ? "; closed with " + c.ws.closeCode() : ""));
            }
            String action = JsonField.get(m, "action");
            if ("ack".equals(action) || "error".equals(action)) {
                return m;
            }
            take(c, m);
        }
    }

    private static void take(Client c, String m) {
        String action = JsonField.get(m, "action");
        assertTrue("publish".equals(action) || "broadcast".equals(action), c + " got an unexpected frame: " + m);
        c.received.add(m);
    }

    /** Waits until every open client has received at least as many deliveries as predicted. */
    private void quiesce() {
        for (Client c : clients) {
            if (!c.open) {
                continue;
            }
            long deadline = System.nanoTime() + WsClient.WAIT.toNanos();
            while (c.received.size() < c.expected.size()) {
                String m = c.ws.poll(Duration.ofMillis(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
                if (m == null) {
                    throw new AssertionError(c + " received " + c.received.size() + " of " + c.expected.size()
                            + " deliveries within " + WsClient.WAIT + "; missing e.g. " + missing(c)
                            + (c.ws.isClosed() ? "; closed with " + c.ws.closeCode() : ""));
                }
                take(c, m);
            }
        }
    }

    private static List<String> missing(Client c) {
        List<String> missing = new ArrayList<>(c.expected);
        c.received.forEach(missing::remove);
        return missing.subList(0, Math.min(3, missing.size()));
    }

    private void assertHubMatchesModel() {
        long open = clients.stream().filter(c -> c.open).count();
        int subscriptions = clients.stream()
                .filter(c -> c.open)
                .mapToInt(c -> c.subscriptions.size())
                .sum();
        Await.until(
                () -> server.server().hub().connections() == open
                        && server.server().hub().subscriptions() == subscriptions,
                Duration.ofSeconds(5),
                "hub counts " + server.server().hub().connections() + " connections / "
                        + server.server().hub().subscriptions() + " subscriptions equal the model's " + open + " / "
                        + subscriptions);
    }

    // ---------------------------------------------------------------- the comparison

    private void assertReceivedAsModelled(Client c) {
        // No cross-audience delivery: every message names its source, and sources belong to one audience.
        for (String m : c.received) {
            String from = source(m)[1];
            Audience a = from.startsWith("hook")
                    ? audiences.get(Integer.parseInt(from.substring(4)))
                    : clients.get(Integer.parseInt(from.substring(1))).audience;
            assertEquals(
                    c.audience.index(), a.index(), c + " received a message from audience " + a.index() + ": " + m);
        }
        // No duplicate.
        Map<String, Long> times =
                c.received.stream().collect(Collectors.groupingBy(m -> m, LinkedHashMap::new, Collectors.counting()));
        times.forEach((m, n) -> assertEquals(1L, n, c + " received " + n + " times: " + m));
        // No loss and nothing extra.
        List<String> missing = new ArrayList<>(c.expected);
        missing.removeAll(c.received);
        List<String> extra = new ArrayList<>(c.received);
        extra.removeAll(c.expected);
        assertTrue(missing.isEmpty() && extra.isEmpty(), c + ": missing " + missing + ", unexpected " + extra);
        // Per-publisher order: each source's messages arrive in the order that source sent them.
        Map<String, List<String>> expectedBySource = bySource(c.expected);
        Map<String, List<String>> receivedBySource = bySource(c.received);
        assertEquals(expectedBySource, receivedBySource, c + ": per-publisher order");
    }

    private static Map<String, List<String>> bySource(List<String> frames) {
        Map<String, List<String>> map = new HashMap<>();
        for (String f : frames) {
            map.computeIfAbsent(source(f)[1], k -> new ArrayList<>()).add(f);
        }
        return map;
    }

    /** [op, from] of a delivery. */
    private static String[] source(String frame) {
        Matcher m = SOURCE.matcher(frame);
        if (!m.find()) {
            throw new AssertionError("not a message this test sent: " + frame);
        }
        return new String[] {m.group(1), m.group(2)};
    }
}
