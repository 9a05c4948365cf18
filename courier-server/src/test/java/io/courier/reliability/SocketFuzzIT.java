package io.courier.reliability;

import static io.courier.reliability.FuzzFrames.ANY;
import static io.courier.reliability.FuzzFrames.TOPICS;
import static io.courier.reliability.FuzzFrames.publishPrefix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.error.ErrorCode;
import io.courier.json.Json;
import io.courier.reliability.FuzzFrames.Case;
import io.courier.reliability.FuzzFrames.FrameGenerator;
import io.courier.testing.Await;
import io.courier.testing.CourierExtension;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A seeded, reproducible fuzz of the socket protocol against a live server. Thousands of generated
 * and mutated text frames go over a few long-lived connections; each is followed by a sentinel
 * subscribe whose ack marks the end of the frame's answer, so every frame's answer is checked on its
 * own: the answer an oracle predicts (ack, nothing, or an error frame with a given code), or for
 * mutated frames at most one ack or error frame with a code from {@link ErrorCode}. Frames that must
 * end a connection (invalid UTF-8, binary, oversized, RFC 6455 violations) each get a fresh raw
 * connection and must see the documented close code. Afterwards every connection is gone from the
 * hub and a normal client still works. Buffer leaks fail the class through the leak check.
 *
 * <p>Reproduce with {@code -Dcourier.fuzz.seed=SEED} (printed on failure); size with
 * {@code -Dcourier.fuzz.frames=N} (default 3,000).
 */
class SocketFuzzIT {
    static final long SEED = Long.getLong("courier.fuzz.seed", new SecureRandom().nextLong());
    private static final int FRAMES = Integer.getInteger("courier.fuzz.frames", 3_000);
    private static final int CONNECTIONS = 4;
    private static final int MAX_FRAME_BYTES = 65_536;
    private static final Set<String> CODES =
            Arrays.stream(ErrorCode.values()).map(Enum::name).collect(Collectors.toSet());
    private static final Pattern MARKER = Pattern.compile("\"k\":\"((?:ok|never)-\\d+)\"");
    /** How long a raw connection waits for the server to answer or close: generous on loopback. */
    private static final Duration WIRE_TIMEOUT = Duration.ofSeconds(2);

    private static String fuzzToken;
    private static String rawToken;

    @RegisterExtension
    static final CourierExtension server =
            CourierExtension.with(Map.of("courier.ws.max.frame.bytes", Integer.toString(MAX_FRAME_BYTES)));

    @BeforeAll
    static void setUpAudiences() {
        fuzzToken = server.setUp(TestServer.uniqueAudience(), TOPICS.toArray(new String[0]));
        rawToken = server.setUp(TestServer.uniqueAudience(), "t");
    }

    /** After every test: no connection is left in the hub, and a normal client still works. */
    @AfterEach
    void serverIsUnharmed() {
        seeded(() -> {
            Await.until(
                    () -> server.server().hub().connections() == 0
                            && server.server().hub().subscriptions() == 0,
                    Duration.ofSeconds(10),
                    "hub counts back to 0 (now " + server.server().hub().connections() + " connections, "
                            + server.server().hub().subscriptions() + " subscriptions)");
            try (WsClient a = server.connect(fuzzToken);
                    WsClient b = server.connect(fuzzToken)) {
                a.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"after\"}");
                assertEquals("{\"action\":\"ack\",\"id\":\"after\"}", a.next());
                assertEquals(2, server.server().hub().connections());
                assertEquals(1, server.server().hub().subscriptions());
                b.send("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"still\":\"working\"},\"id\":2}");
                assertEquals("{\"action\":\"ack\",\"id\":2}", b.next());
                assertEquals("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"still\":\"working\"}}", a.next());
            }
            Await.until(
                    () -> server.server().hub().connections() == 0
                            && server.server().hub().subscriptions() == 0,
                    Duration.ofSeconds(10),
                    "hub counts back to 0 after the normal client left");
            assertEquals(0, server.server().hub().activeAudiences());
        });
    }

    // ---------------------------------------------------------------- text frames over live connections

    @Test
    void randomAndMutatedTextFramesGetKnownAnswersAndConnectionsStayOpen() {
        seeded(() -> {
            Random rnd = new Random(SEED);
            FrameGenerator gen = new FrameGenerator(rnd);
            List<Conn> conns = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                Conn c = new Conn(i, server.connect(fuzzToken));
                conns.add(c);
                c.sendAndSettle("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"setup\"}", "setup");
            }
            Map<String, Integer> kinds = new TreeMap<>();
            Map<String, Integer> outcomes = new TreeMap<>();
            Map<String, Expected> markers = new HashMap<>();
            try {
                for (int n = 0; n < FRAMES; n++) {
                    Conn conn = conns.get(rnd.nextInt(conns.size()));
                    Case c = gen.next(n);
                    kinds.merge(c.kind(), 1, Integer::sum);
                    String outcome = conn.exchange(n, c);
                    outcomes.merge(outcome.startsWith("error:") ? outcome.substring(6) : outcome, 1, Integer::sum);
                    record(c, outcome, conn.index, markers);
                }
                for (Conn conn : conns) {
                    conn.awaitDeliveries(markers, conns.size());
                }
                for (Conn conn : conns) {
                    conn.drainQuietly();
                    conn.checkDeliveries(markers, conns.size());
                }
            } finally {
                conns.forEach(c -> c.client.close());
            }
            System.out.printf(
                    "socket fuzz: seed=%d frames=%d connections=%d kinds=%s outcomes=%s deliveries=%s%n",
                    SEED,
                    FRAMES,
                    conns.size(),
                    kinds,
                    outcomes,
                    conns.stream().map(c -> c.deliveries.size()).toList());
        });
    }

    /** Which deliveries a marker's frame promises, given the answer it got. */
    private static void record(Case c, String outcome, int sender, Map<String, Expected> markers) {
        if (c.delivery() == null) {
            return;
        }
        boolean accepted = outcome.equals("ack") || outcome.equals("none");
        Scope scope = !accepted || c.delivery().frame() == null
                ? Scope.NEVER
                : c.delivery().topic() == null
                        ? Scope.ALL
                        : c.delivery().topic().equals("t") ? Scope.SENDER : Scope.AT_MOST_ONCE;
        markers.put(c.delivery().marker(), new Expected(c.delivery().frame(), scope, sender, c));
        for (String never : c.delivery().never()) {
            markers.put(never, new Expected(null, Scope.NEVER, sender, c));
        }
    }

    private enum Scope {
        SENDER,
        ALL,
        AT_MOST_ONCE,
        NEVER
    }

    private record Expected(String frame, Scope scope, int sender, Case from) {}

    /** One fuzzed connection, its deliveries kept apart from the answers. */
    private static final class Conn {
        final int index;
        final WsClient client;
        final List<String> deliveries = new ArrayList<>();
        int sentinel;

        Conn(int index, WsClient client) {
            this.index = index;
            this.client = client;
        }

        /** Sends the case and a sentinel; checks the answer in between; returns the outcome. */
        String exchange(int n, Case c) {
            String where = "frame #" + n + " on connection " + index + ": " + c;
            String sentinelId = "~sentinel-" + index + "-" + (sentinel++);
            client.send(c.text());
            client.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"" + sentinelId + "\"}");
            List<String> answers = collectUntilAck(sentinelId, where);
            assertTrue(answers.size() <= 1, () -> where + ": at most one answer per frame, got " + answers);
            String outcome;
            if (answers.isEmpty()) {
                outcome = "none";
            } else {
                String answer = answers.get(0);
                String action = JsonField.get(answer, "action");
                if ("ack".equals(action)) {
                    outcome = "ack";
                } else {
                    assertEquals("error", action, where + ": answer " + answer);
                    String code = JsonField.get(answer, "code");
                    assertTrue(CODES.contains(code), where + ": unknown error code in " + answer);
                    String message = JsonField.get(answer, "message");
                    assertTrue(message != null && !message.isEmpty(), where + ": error without message: " + answer);
                    outcome = "error:" + code;
                }
                switch (c.idRule()) {
                    case ECHO -> assertEquals(c.id(), JsonField.get(answer, "id"), where + ": id echoed in " + answer);
                    case ABSENT -> assertEquals(null, JsonField.get(answer, "id"), where + ": no id in " + answer);
                    case ANY -> {}
                }
            }
            if (!c.outcomes().contains(ANY)) {
                String shown = outcome.startsWith("error:") ? outcome.substring(6) : outcome;
                assertTrue(c.outcomes().contains(shown), () -> where + ": got " + shown + " " + answers);
            }
            return outcome;
        }

        void sendAndSettle(String frame, String id) {
            client.send(frame);
            collectUntilAck(id, "setup");
        }

        private List<String> collectUntilAck(String id, String where) {
            String ack = "{\"action\":\"ack\",\"id\":\"" + id + "\"}";
            List<String> answers = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (true) {
                String m = client.poll(Duration.ofMillis(100));
                if (m == null) {
                    if (client.isClosed()) {
                        throw new AssertionError(where + ": the server closed the connection with " + client.closeCode()
                                + " (answers so far " + answers + ")");
                    }
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError(
                                where + ": no sentinel ack within 10 s (answers so far " + answers + ")");
                    }
                    continue;
                }
                assertWellFormed(m, where);
                if (m.equals(ack)) {
                    return answers;
                }
                String action = JsonField.get(m, "action");
                if ("publish".equals(action) || "broadcast".equals(action)) {
                    deliveries.add(m);
                } else {
                    answers.add(m);
                }
            }
        }

        /** Waits until every delivery this connection is owed has arrived. */
        void awaitDeliveries(Map<String, Expected> markers, int connections) {
            Set<String> owed = markers.entrySet().stream()
                    .filter(e -> e.getValue().scope() == Scope.ALL
                            || e.getValue().scope() == Scope.SENDER
                                    && e.getValue().sender() == index)
                    .map(Map.Entry::getKey)
                    .collect(Collectors.toSet());
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (true) {
                Set<String> seen = deliveries.stream().map(SocketFuzzIT::marker).collect(Collectors.toSet());
                if (seen.containsAll(owed)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    Set<String> missing = new TreeSet<>(owed);
                    missing.removeAll(seen);
                    throw new AssertionError("connection " + index + " is missing " + missing.size()
                            + " deliveries, e.g. "
                            + missing.stream()
                                    .limit(3)
                                    .map(k -> k + " from " + markers.get(k).from())
                                    .toList());
                }
                String m = client.poll(Duration.ofMillis(100));
                if (m != null) {
                    assertWellFormed(m, "delivery on connection " + index);
                    deliveries.add(m);
                }
            }
        }

        /** Takes whatever still arrives within a short quiet period (duplicates would show up here). */
        void drainQuietly() {
            for (String m; (m = client.poll(Duration.ofMillis(200))) != null; ) {
                assertWellFormed(m, "late delivery on connection " + index);
                deliveries.add(m);
            }
        }

        void checkDeliveries(Map<String, Expected> markers, int connections) {
            Map<String, Integer> counts = new HashMap<>();
            for (String d : deliveries) {
                String action = JsonField.get(d, "action");
                assertTrue(
                        "publish".equals(action) || "broadcast".equals(action),
                        "connection " + index + " got a stray frame: " + d);
                if ("publish".equals(action)) {
                    String topic = JsonField.get(d, "topic");
                    assertTrue(TOPICS.contains(topic), "delivery for a topic of another audience or none: " + d);
                    assertTrue(d.startsWith(publishPrefix(topic)) && d.endsWith("}"), "delivery shape: " + d);
                } else {
                    assertTrue(
                            d.startsWith("{\"action\":\"broadcast\",\"message\":{") && d.endsWith("}"),
                            "delivery shape: " + d);
                }
                String marker = marker(d);
                if (marker == null) {
                    continue; // a mutated frame that happened to be valid
                }
                Expected e = markers.get(marker);
                assertTrue(e != null, "connection " + index + " got a delivery nobody sent: " + d);
                assertTrue(
                        e.scope() != Scope.NEVER,
                        () -> "connection " + index + " got a delivery of a refused frame (" + e.from() + "): " + d);
                assertEquals(e.frame(), d, "byte-for-byte delivery of " + e.from());
                counts.merge(marker, 1, Integer::sum);
            }
            counts.forEach((marker, count) -> assertEquals(
                    1,
                    count,
                    "connection " + index + " got " + marker + " " + count + " times; sent as "
                            + markers.get(marker).from()));
        }
    }

    private static String marker(String delivery) {
        Matcher m = MARKER.matcher(delivery);
        return m.find() ? m.group(1) : null;
    }

    /** Every server frame must be one complete, valid JSON object. */
    private static void assertWellFormed(String json, String where) {
        try (JsonParser p = Json.FACTORY.createParser(json)) {
            assertEquals(JsonToken.START_OBJECT, p.nextToken(), where + ": not an object: " + json);
            p.skipChildren();
            assertEquals(null, p.nextToken(), where + ": content after the object: " + json);
        } catch (IOException e) {
            throw new AssertionError(where + ": server sent invalid JSON: " + json, e);
        }
    }

    // ---------------------------------------------------------------- frames that end the connection

    @Test
    void invalidUtf8ClosesWith1007() {
        seeded(() -> {
            Random rnd = new Random(SEED ^ 0x1007);
            byte[][] bad = {
                {(byte) 0xFF},
                {(byte) 0xFE},
                {(byte) 0xC0, (byte) 0x80},
                {(byte) 0xC1, (byte) 0xBF}, // never valid, overlong
                {(byte) 0xE0, (byte) 0x80, (byte) 0x80},
                {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // overlong
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xED, (byte) 0xBF, (byte) 0xBF}, // UTF-16 surrogates
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // > U+10FFFF
                {(byte) 0x80},
                {(byte) 0xBF}, // lone continuation bytes
                {(byte) 0xC3},
                {(byte) 0xE2, (byte) 0x82},
                {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, // truncated sequences
                {(byte) 0xE2, (byte) 0x28, (byte) 0xA1},
                {(byte) 0xC3, (byte) 0x28}, // bad continuation
            };
            List<RawCase> cases = new ArrayList<>();
            for (String where :
                    List.of("in a message string", "in the topic", "before the object", "at the very end")) {
                for (byte[] seq : bad) {
                    String pad = "é".repeat(rnd.nextInt(20));
                    byte[] frame = switch (where) {
                        case "in a message string" ->
                            concat(
                                    "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"s\":\"" + pad,
                                    seq,
                                    "\"},\"id\":1}");
                        case "in the topic" -> concat("{\"action\":\"subscribe\",\"id\":1,\"topic\":\"t", seq, "\"}");
                        case "before the object" ->
                            concat("", seq, "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}");
                        default -> concat("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}", seq, "");
                    };
                    cases.add(new RawCase(
                            "invalid UTF-8 " + hex(seq) + " " + where,
                            List.of(WsWire.frame(0x81, true, frame, -1)),
                            Set.of("close 1007")));
                }
            }
            // Split across fragments: an invalid sequence must be caught across the boundary.
            cases.add(new RawCase(
                    "invalid UTF-8 E2 28 split across fragments",
                    List.of(
                            WsWire.frame(0x01, true, new byte[] {'{', '"', (byte) 0xE2}, -1),
                            WsWire.frame(0x80, true, new byte[] {0x28, '"', ':', '1', '}'}, -1)),
                    Set.of("close 1007")));
            // In the reason of a client's close frame: a malformed close frame, a protocol error.
            cases.add(new RawCase(
                    "invalid UTF-8 in a close reason",
                    List.of(WsWire.frame(0x88, true, new byte[] {0x03, (byte) 0xE8, (byte) 0xC0, (byte) 0x80}, -1)),
                    Set.of("close 1002")));
            assertEndings("invalid UTF-8", cases);

            // A valid sequence split across fragments is fine: the euro sign's E2 | 82 AC.
            try (WsWire wire = openWire()) {
                byte[] start = "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"".getBytes(StandardCharsets.UTF_8);
                wire.write(WsWire.frame(
                        0x01,
                        true,
                        concat(new String(start, StandardCharsets.UTF_8), new byte[] {(byte) 0xE2}, ""),
                        -1));
                wire.write(WsWire.frame(0x80, true, new byte[] {(byte) 0x82, (byte) 0xAC, '"', '}'}, -1));
                assertEquals(
                        "{\"action\":\"ack\",\"id\":\"\u20ac\"}",
                        wire.readFrame().text(),
                        "a sequence split across fragments");
            }
        });
    }

    /**
     * A publisher must not be able to push invalid UTF-8 through the hub: subscribers (browsers) fail
     * their connection on an invalid text frame, so one bad publish would disconnect a whole topic.
     */
    @Test
    void invalidUtf8InAPublishNeverReachesSubscribers() {
        seeded(() -> {
            byte[][] bad = {
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xC0, (byte) 0x80},
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                {(byte) 0xE0, (byte) 0x80, (byte) 0x80},
                {(byte) 0xFF},
                {(byte) 0x80}
            };
            try (WsClient subscriber = server.connect(rawToken)) {
                subscriber.send("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}");
                assertEquals("{\"action\":\"ack\",\"id\":1}", subscriber.next());
                List<RawCase> cases = new ArrayList<>();
                for (byte[] seq : bad) {
                    cases.add(new RawCase(
                            "publish with " + hex(seq) + " in the message",
                            List.of(WsWire.frame(
                                    0x81,
                                    true,
                                    concat(
                                            "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"s\":\"",
                                            seq,
                                            "\"}}"),
                                    -1)),
                            Set.of("close 1007")));
                }
                List<String> publishers = new ArrayList<>(endings(cases).entrySet().stream()
                        .map(e -> e.getKey().name() + " → publisher " + e.getValue())
                        .toList());
                // The hook is a publisher too: the same bytes in a POST /v1/hook body.
                for (byte[] seq : bad) {
                    HttpResponse<String> r = server.send(
                            HttpRequest.newBuilder(server.uri("/v1/hook"))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(concat(
                                            "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"s\":\"",
                                            seq,
                                            "\"}}"))),
                            rawToken);
                    publishers.add("hook publish with " + hex(seq) + " in the message → " + r.statusCode() + " "
                            + JsonField.get(r.body(), "error.code"));
                }
                assertEquals(
                        200,
                        server.post(
                                        "/v1/hook",
                                        rawToken,
                                        "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"end\":true}}")
                                .statusCode());
                String next = null;
                for (long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                        next == null && !subscriber.isClosed() && System.nanoTime() < end; ) {
                    next = subscriber.poll(Duration.ofMillis(100));
                }
                assertEquals(
                        "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"end\":true}}",
                        next,
                        "the subscriber gets nothing before the marker and stays connected (it was "
                                + (subscriber.isClosed() ? "closed with " + subscriber.closeCode() : "open") + "); "
                                + publishers);
                for (String p : publishers) {
                    assertTrue(
                            p.contains("→ publisher close 1007") || p.endsWith("→ 400 EBODY_INVALID"),
                            "each socket publisher is closed with 1007, each hook call refused with 400 EBODY_INVALID: "
                                    + publishers);
                }
            }
        });
    }

    @Test
    void binaryFramesCloseWith1003() {
        seeded(() -> {
            Random rnd = new Random(SEED ^ 0x1003);
            List<RawCase> cases = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                byte[] payload = switch (i) {
                    case 0 -> new byte[0];
                    case 1 -> "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}".getBytes(StandardCharsets.UTF_8);
                    default -> randomBytes(rnd, rnd.nextInt(2000));
                };
                cases.add(new RawCase(
                        "binary frame of " + payload.length + " bytes",
                        List.of(WsWire.frame(0x82, true, payload, -1)),
                        Set.of("close 1003")));
            }
            cases.add(new RawCase(
                    "fragmented binary message",
                    List.of(WsWire.frame(0x02, true, new byte[] {1}, -1), WsWire.frame(0x80, true, new byte[] {2}, -1)),
                    Set.of("close 1003")));
            assertEndings("binary", cases);
            try (WsClient c = server.connect(rawToken)) {
                c.sendBinary(randomBytes(rnd, 100));
                assertEquals(1003, c.closeCode(), "binary frame from the JDK client");
            }
        });
    }

    @Test
    void oversizedFramesCloseWith1009() {
        seeded(() -> {
            List<RawCase> cases = new ArrayList<>();
            // Header only: the declared length alone must be refused, before any payload is buffered.
            for (long declared : new long[] {MAX_FRAME_BYTES + 1L, 1L << 20, 1L << 31, Long.MAX_VALUE}) {
                cases.add(new RawCase(
                        "text frame declaring " + declared + " bytes",
                        List.of(WsWire.frame(0x81, true, "{\"act".getBytes(StandardCharsets.US_ASCII), declared)),
                        Set.of("close 1009")));
            }
            // Fragments each under the limit whose sum is over it.
            byte[] part = ("{\"action\":\"broadcast\",\"message\":{\"p\":\"" + "y".repeat(40_000))
                    .getBytes(StandardCharsets.US_ASCII);
            cases.add(new RawCase(
                    "fragments summing to 80 KB",
                    List.of(
                            WsWire.frame(0x01, true, part, -1),
                            WsWire.frame(0x00, true, "z".repeat(40_000).getBytes(StandardCharsets.US_ASCII), -1)),
                    Set.of("close 1009")));
            assertEndings("oversized", cases);
            // Whole frames from a real client, just over the limit and far over it. The client may
            // still be writing when the server closes, so only the close code counts.
            for (int size : new int[] {MAX_FRAME_BYTES + 1, 3 * MAX_FRAME_BYTES}) {
                try (WsClient c = server.connect(rawToken)) {
                    String pad = "x".repeat(size - 40);
                    c.socket().sendText("{\"action\":\"broadcast\",\"message\":{\"p\":\"" + pad + "\"}}", true);
                    assertEquals(1009, c.closeCode(), "text frame of about " + size + " bytes");
                }
            }
        });
    }

    /** RFC 6455 violations, malformed close frames included: each gets a 1002 close frame. */
    @Test
    void protocolViolationsEndTheConnection() {
        seeded(() -> {
            byte[] json = "{\"action\":\"subscribe\",\"topic\":\"t\"}".getBytes(StandardCharsets.US_ASCII);
            Set<String> protocolError = Set.of("close 1002");
            Set<String> badClose = protocolError;
            List<RawCase> cases = List.of(
                    new RawCase("unmasked client frame", List.of(WsWire.frame(0x81, false, json, -1)), protocolError),
                    new RawCase(
                            "RSV1 set without an extension",
                            List.of(WsWire.frame(0xC1, true, json, -1)),
                            protocolError),
                    new RawCase("RSV3 set", List.of(WsWire.frame(0x91, true, json, -1)), protocolError),
                    new RawCase("reserved data opcode 0x3", List.of(WsWire.frame(0x83, true, json, -1)), protocolError),
                    new RawCase(
                            "reserved control opcode 0xB",
                            List.of(WsWire.frame(0x8B, true, new byte[0], -1)),
                            protocolError),
                    new RawCase(
                            "ping with a 126-byte payload",
                            List.of(WsWire.frame(0x89, true, new byte[126], -1)),
                            protocolError),
                    new RawCase(
                            "fragmented ping", List.of(WsWire.frame(0x09, true, new byte[] {1}, -1)), protocolError),
                    new RawCase(
                            "continuation without a start", List.of(WsWire.frame(0x80, true, json, -1)), protocolError),
                    new RawCase(
                            "new text frame inside a fragmented message",
                            List.of(WsWire.frame(0x01, true, new byte[] {'{'}, -1), WsWire.frame(0x81, true, json, -1)),
                            protocolError),
                    new RawCase("16-bit length used for a 5-byte payload", List.of(nonMinimalLength()), protocolError),
                    new RawCase(
                            "close frame with a 1-byte body",
                            List.of(WsWire.frame(0x88, true, new byte[] {3}, -1)),
                            badClose),
                    new RawCase(
                            "close frame with code 999",
                            List.of(WsWire.frame(0x88, true, new byte[] {0x03, (byte) 0xE7}, -1)),
                            badClose),
                    new RawCase(
                            "close frame with reserved code 1005",
                            List.of(WsWire.frame(0x88, true, new byte[] {0x03, (byte) 0xED}, -1)),
                            badClose),
                    // RFC 6455 defines codes up to 4999 (Netty alone would accept and echo 5000).
                    new RawCase(
                            "close frame with code 5000",
                            List.of(WsWire.frame(0x88, true, new byte[] {0x13, (byte) 0x88}, -1)),
                            badClose));
            assertEndings("RFC 6455 violation", cases);
        });
    }

    @Test
    void fragmentsControlFramesAndClientCloseAreHandled() {
        seeded(() -> {
            try (WsWire wire = openWire()) {
                wire.write(WsWire.frame(0x01, true, "{\"action\":\"subscr".getBytes(StandardCharsets.US_ASCII), -1));
                wire.write(WsWire.frame(
                        0x89,
                        true,
                        "mid".getBytes(StandardCharsets.US_ASCII),
                        -1)); // ping between fragments is allowed
                wire.write(WsWire.frame(0x00, true, "ibe\",\"topic\":".getBytes(StandardCharsets.US_ASCII), -1));
                wire.write(WsWire.frame(0x80, true, "\"t\",\"id\":\"frag\"}".getBytes(StandardCharsets.US_ASCII), -1));
                WsWire.Frame pong = wire.readFrame();
                assertEquals(0xA, pong.opcode(), "the ping is answered even mid-message");
                assertEquals("mid", pong.text());
                assertEquals(
                        "{\"action\":\"ack\",\"id\":\"frag\"}", wire.readFrame().text());
                // Empty fragments and an empty final frame.
                wire.write(WsWire.frame(0x01, true, new byte[0], -1));
                wire.write(WsWire.frame(
                        0x00,
                        true,
                        "{\"action\":\"broadcast\",\"message\":{\"e\":1},\"id\":9}".getBytes(StandardCharsets.US_ASCII),
                        -1));
                wire.write(WsWire.frame(0x80, true, new byte[0], -1));
                assertEquals("{\"action\":\"ack\",\"id\":9}", wire.readFrame().text());
                assertEquals(
                        "{\"action\":\"broadcast\",\"message\":{\"e\":1}}",
                        wire.readFrame().text());
                // An empty text frame is not JSON; a pong from the client is ignored.
                wire.write(WsWire.frame(0x8A, true, "unsolicited".getBytes(StandardCharsets.US_ASCII), -1));
                wire.write(WsWire.frame(0x81, true, new byte[0], -1));
                assertEquals("EBODY_INVALID", JsonField.get(wire.readFrame().text(), "code"));
            }
            List<RawCase> closes = List.of(
                    new RawCase(
                            "client close 1000 with a reason",
                            List.of(WsWire.frame(0x88, true, new byte[] {0x03, (byte) 0xE8, 'b', 'y', 'e'}, -1)),
                            Set.of("close 1000")),
                    new RawCase(
                            "client close 4000 (application range)",
                            List.of(WsWire.frame(0x88, true, new byte[] {0x0F, (byte) 0xA0}, -1)),
                            Set.of("close 4000")),
                    new RawCase(
                            "client close without a body",
                            List.of(WsWire.frame(0x88, true, new byte[0], -1)),
                            Set.of("close 1000")));
            assertEndings("client close", closes);
        });
    }

    /** A text frame that uses the 16-bit length form for a 5-byte payload (RFC 6455 section 5.2: minimal encoding MUST be used). */
    private static byte[] nonMinimalLength() {
        byte[] payload = "{\"a\":".getBytes(StandardCharsets.US_ASCII);
        byte[] minimal = WsWire.frame(0x81, true, payload, -1);
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x81);
        f.write(0x80 | 126);
        f.write(0);
        f.write(payload.length);
        f.write(minimal, 2, minimal.length - 2); // mask key and masked payload
        return f.toByteArray();
    }

    // ---------------------------------------------------------------- raw connection helpers

    /** A connection-ending case: the frames written after the connected frame, and the endings allowed. */
    private record RawCase(String name, List<byte[]> frames, Set<String> allowed) {}

    private static WsWire openWire() {
        WsWire wire = WsWire.open(server.port(), "/ws?token=" + server.sign(rawToken), WIRE_TIMEOUT);
        assertEquals("connected", JsonField.get(wire.readFrame().text(), "action"));
        return wire;
    }

    /**
     * Runs every case on its own connection, many at a time (so a server that fails to close costs
     * seconds, not minutes), and fails listing every case that ended otherwise.
     */
    private static void assertEndings(String what, List<RawCase> cases) {
        List<String> wrong = new ArrayList<>();
        endings(cases).forEach((c, ending) -> {
            if (!c.allowed().contains(ending.summary())) {
                wrong.add(c.name() + " → " + ending + " (expected " + c.allowed() + ")");
            }
        });
        System.out.printf(
                "socket fuzz: %d %s connections, %d ended as expected%n",
                cases.size(), what, cases.size() - wrong.size());
        assertTrue(
                wrong.isEmpty(),
                wrong.size() + " of " + cases.size() + " " + what + " cases ended wrongly:\n  "
                        + String.join("\n  ", wrong));
    }

    /** How each case's connection ended, in case order; cases run 32 at a time. */
    private static Map<RawCase, WsWire.Ending> endings(List<RawCase> cases) {
        String key = server.sign(rawToken);
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<WsWire.Ending>> results = new ArrayList<>();
            for (RawCase c : cases) {
                results.add(pool.submit(() -> {
                    try (WsWire wire = WsWire.open(server.port(), "/ws?token=" + key, WIRE_TIMEOUT)) {
                        assertEquals("connected", JsonField.get(wire.readFrame().text(), "action"));
                        for (byte[] f : c.frames()) {
                            if (!wire.write(f)) {
                                break; // the server closed already; its answer is still readable
                            }
                        }
                        return wire.ending();
                    }
                }));
            }
            Map<RawCase, WsWire.Ending> endings = new LinkedHashMap<>();
            for (int i = 0; i < cases.size(); i++) {
                endings.put(cases.get(i), results.get(i).get(30, TimeUnit.SECONDS));
            }
            return endings;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("a raw connection case failed to run", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] concat(String before, byte[] middle, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(middle);
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static byte[] randomBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) {
            s.append(String.format("%02X ", b));
        }
        return s.toString().trim();
    }

    /** Runs {@code body}; any failure names the seed that reproduces it. */
    static void seeded(Runnable body) {
        try {
            body.run();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(
                    "[seed " + SEED + ", rerun with -Dcourier.fuzz.seed=" + SEED + "] " + e.getMessage(), e);
        }
    }
}
