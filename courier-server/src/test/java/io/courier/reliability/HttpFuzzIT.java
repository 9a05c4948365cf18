package io.courier.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.HttpWire;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile HTTP against the live server, over raw TCP: malformed request lines and headers, heads and
 * bodies over the limits, wrong content types, chunked bodies good and bad, clients that trickle one
 * byte at a time or stop halfway, and seeded random mutations of valid requests. Each case must end
 * in a clean answer (a status below 500 with the JSON error body and a code from {@link ErrorCode})
 * or a closed connection, never a hang past the request timeout; afterwards a normal request on a
 * new connection still works. Every outcome is printed as a table, since several cases record
 * policy rather than test it (the README does not say which status a malformed request line gets).
 *
 * <p>The server runs with {@code courier.http.max.body.bytes=1024} and
 * {@code courier.http.request.timeout.seconds=3}. Reproduce the random part with
 * {@code -Dcourier.fuzz.seed=SEED}; size it with {@code -Dcourier.fuzz.http.requests=N} (default 300).
 */
class HttpFuzzIT {
    private static final long SEED = Long.getLong("courier.fuzz.seed", new SecureRandom().nextLong());
    private static final int RANDOM_REQUESTS = Integer.getInteger("courier.fuzz.http.requests", 300);
    private static final int MAX_BODY = 1024;
    private static final int REQUEST_TIMEOUT_SECONDS = 3;
    /** How long past the request timeout a stalled connection may stay open: scheduling slack. */
    private static final Duration SLACK = Duration.ofSeconds(2);
    /** Any answer below 500, or a close: for cases where the README leaves the status open. */
    private static final String NOT_5XX = "any status < 500, or close";

    private static final Set<String> CODES =
            Arrays.stream(ErrorCode.values()).map(Enum::name).collect(Collectors.toSet());
    private static final Map<String, String> observed = new ConcurrentSkipListMap<>();

    private static String token;

    // courier.http.request.timeout.seconds is required here: a request that never completes
    // must be closed, and the test must not wait the 30 s default for it.
    @RegisterExtension
    static final CourierExtension server = CourierExtension.with(Map.of(
            "courier.http.max.body.bytes",
            Integer.toString(MAX_BODY),
            "courier.http.request.timeout.seconds",
            Integer.toString(REQUEST_TIMEOUT_SECONDS)));

    @BeforeAll
    static void setUpAudiences() {
        token = server.setUp(TestServer.uniqueAudience(), "existing");
    }

    @AfterAll
    static void stop() {
        System.out.println("http fuzz outcomes (case → outcome):");
        observed.forEach((k, v) -> System.out.println("  " + k + " → " + v));
    }

    /** After every case: a normal request on a new connection works, with and without the database. */
    @AfterEach
    void serverStillAnswers() {
        try (HttpWire wire = new HttpWire(server.port(), Duration.ofSeconds(5))) {
            wire.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, wire.read().status(), "GET /healthz on a new connection");
        }
        HttpResponse<String> list = server.get("/v1/topic", token);
        assertEquals(200, list.statusCode(), "GET /v1/topic: " + list.body());
    }

    // ---------------------------------------------------------------- deterministic cases

    static Stream<Arguments> malformed() {
        String ok = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        Set<String> refused = Set.of("400 close", "close");
        return Stream.of(
                arguments("garbage request line", "GARBAGE\r\n\r\n", refused),
                arguments("method only", "GET\r\n\r\n", refused),
                arguments("HTTP/0.9 request line", "GET /healthz\r\n\r\n", refused),
                arguments("unknown protocol", "GET /healthz FOO/1.1\r\nHost: x\r\n\r\n", refused),
                arguments("HTTP/9.9", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", Set.of(NOT_5XX, "505 close")),
                arguments(
                        "HTTP/2 preface on HTTP/1.1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Set.of(NOT_5XX, "505 close")),
                arguments(
                        "request line over 4 KiB",
                        "GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("400 close", "414 close", "close")),
                arguments("binary junk", new String(junk(), StandardCharsets.ISO_8859_1) + "\r\n\r\n", refused),
                // QueryStringDecoder throws on a bad escape; the request must still be answered and released.
                arguments(
                        "bad percent-escape in the path",
                        "GET /v1/to%zzpic HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("400", "400 close", "404")),
                arguments(
                        "truncated percent-escape in the path",
                        "GET /healthz% HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("400", "400 close", "404")),
                arguments(
                        "bad percent-escape in the query",
                        "GET /healthz?a=%G1 HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("200", "400", "400 close")),
                arguments(
                        "bad percent-escape on /ws",
                        "GET /ws?token=%zz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                        Set.of("400", "400 close", "401", "401 close")),
                arguments(
                        "NUL in the path",
                        "GET /heal\u0000thz HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("400 close", "404", "close")),
                arguments(
                        "lower-case method",
                        "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("400 close", "405", "501", "close")),
                arguments(
                        "absolute-form URI",
                        "GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                        Set.of("200", "404", "400 close")),
                arguments("leading empty lines", "\r\n\r\n" + ok + "\r\n", Set.of("200")),
                arguments("LF-only line endings", "GET /healthz HTTP/1.1\nHost: x\n\n", Set.of("200", "400 close")),
                arguments("header without a colon", ok + "Broken header\r\n\r\n", refused),
                arguments("space before a header colon", ok + "X-A : 1\r\n\r\n", Set.of("200", "400 close")),
                arguments("obsolete header folding", ok + "X-A: a\r\n b\r\n\r\n", Set.of("200", "400 close")),
                arguments(
                        "control character in a header value",
                        ok + "X-A: a\u0001b\r\n\r\n",
                        Set.of("200", "400 close")),
                arguments("no Host header in HTTP/1.1", "GET /healthz HTTP/1.1\r\n\r\n", Set.of("200", "400 close")),
                arguments(
                        "header over 8 KiB",
                        ok + "X-Big: " + "b".repeat(10 * 1024) + "\r\n\r\n",
                        Set.of("400 close", "431 close", "close")),
                arguments(
                        "headers summing to 12 KiB",
                        ok + ("X-Many: " + "m".repeat(52) + "\r\n").repeat(200) + "\r\n",
                        Set.of("400 close", "431 close", "close")),
                arguments(
                        "headers just under 8 KiB",
                        ok + ("X-Some: " + "s".repeat(50) + "\r\n").repeat(120) + "\r\n",
                        Set.of("200")),
                arguments(
                        "two different Content-Length",
                        post("/v1/topic", "Content-Length: 5\r\nContent-Length: 6\r\n", "{\"a\":1"),
                        refused),
                arguments("negative Content-Length", post("/v1/topic", "Content-Length: -1\r\n", ""), refused),
                arguments("non-numeric Content-Length", post("/v1/topic", "Content-Length: abc\r\n", ""), refused),
                arguments(
                        "Content-Length over 2^64",
                        post("/v1/topic", "Content-Length: 99999999999999999999999\r\n", ""),
                        Set.of("400 close", "413 close", "close")),
                arguments(
                        "Content-Length and chunked together",
                        post(
                                "/v1/topic",
                                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                                "3\r\n{}x\r\n0\r\n\r\n"),
                        Set.of(NOT_5XX)),
                arguments(
                        "unknown Transfer-Encoding",
                        post("/v1/topic", "Transfer-Encoding: gzip\r\n", "x"),
                        Set.of(NOT_5XX)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedRequestsAreRefusedCleanly(String name, String request, Set<String> allowed) {
        assertOutcome(name, request.getBytes(StandardCharsets.ISO_8859_1), allowed);
    }

    static Stream<Arguments> bodies() {
        String topic = "{\"topic\":\"" + "p".repeat(10) + "\"}";
        String exactly = "{\"topic\":\"limit\"}" + " ".repeat(MAX_BODY - 17); // 1024 bytes: padding is JSON whitespace
        String over = "{\"topic\":\"over\"}" + " ".repeat(MAX_BODY);
        return Stream.of(
                arguments(
                        "body of exactly the limit", post("/v1/topic", contentLength(exactly), exactly), Set.of("201")),
                arguments(
                        "body one byte over the limit",
                        post(
                                "/v1/topic",
                                contentLength(over.substring(0, MAX_BODY + 1)),
                                over.substring(0, MAX_BODY + 1)),
                        Set.of("413 close")),
                arguments(
                        "Content-Length over the limit, no body sent",
                        post("/v1/topic", "Content-Length: 1000000\r\n", ""),
                        Set.of("413 close")),
                arguments(
                        "Expect: 100-continue over the limit",
                        post("/v1/topic", "Expect: 100-continue\r\nContent-Length: 5000\r\n", ""),
                        Set.of("413 close", "417 close")),
                arguments(
                        "chunked body",
                        post(
                                "/v1/topic",
                                "Transfer-Encoding: chunked\r\n",
                                chunked("{\"topic\":", "\"chunked/a\"", "}")),
                        Set.of("201")),
                arguments(
                        "chunked body with extensions",
                        post(
                                "/v1/topic",
                                "Transfer-Encoding: chunked\r\n",
                                "9;ext=1\r\n{\"topic\":\r\nc;x=\"y\"\r\n\"chunked/b\"}\r\n0\r\n\r\n"),
                        Set.of("201")),
                arguments(
                        "chunked body with trailers",
                        post(
                                "/v1/topic",
                                "Transfer-Encoding: chunked\r\n",
                                "15\r\n{\"topic\":\"chunked/c\"}\r\n0\r\nX-Trailer: 1\r\n\r\n"),
                        Set.of("201")),
                arguments(
                        "chunked body over the limit",
                        post(
                                "/v1/topic",
                                "Transfer-Encoding: chunked\r\n",
                                chunked("{\"topic\":\"", "q".repeat(600), "q".repeat(600), "\"}")),
                        Set.of("413 close")),
                arguments(
                        "chunk size not hex",
                        post("/v1/topic", "Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"),
                        Set.of("400 close", "close")),
                arguments(
                        "chunk size overflowing",
                        post("/v1/topic", "Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n"),
                        Set.of("400 close", "413 close", "close")),
                arguments(
                        "text/plain body",
                        postTyped("text/plain", "{\"topic\":\"typed/plain\"}"),
                        Set.of("201", "415")),
                arguments(
                        "application/xml body",
                        postTyped("application/xml", "{\"topic\":\"typed/xml\"}"),
                        Set.of("201", "415")),
                arguments("no Content-Type", postTyped(null, "{\"topic\":\"typed/none\"}"), Set.of("201", "415")),
                arguments(
                        "multipart body",
                        postTyped(
                                "multipart/form-data; boundary=x",
                                "--x\r\nContent-Disposition: form-data; name=\"topic\"\r\n\r\nmp\r\n--x--\r\n"),
                        Set.of("400", "415")),
                arguments(
                        "form-encoded body",
                        postTyped("application/x-www-form-urlencoded", "topic=form"),
                        Set.of("400", "415")),
                arguments(
                        "JSON in UTF-16 declared as such",
                        postTyped(
                                "application/json; charset=utf-16",
                                new String(
                                        "{\"topic\":\"typed/utf16\"}".getBytes(StandardCharsets.UTF_16LE),
                                        StandardCharsets.ISO_8859_1)),
                        Set.of("201", "400", "415")),
                arguments(
                        "invalid UTF-8 in a JSON body",
                        postTyped("application/json", "{\"topic\":\"bad\u00ff\u00fe\"}"),
                        Set.of("400", "422")),
                arguments("empty POST body", post("/v1/topic", "Content-Length: 0\r\n", ""), Set.of("400")),
                arguments(
                        "GET with a body",
                        "GET /v1/topic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n"
                                + contentLength(topic) + "\r\n" + topic,
                        Set.of("200")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bodies")
    void bodiesAndContentTypesGetCleanAnswers(String name, String request, Set<String> allowed) {
        assertOutcome(name, request.getBytes(StandardCharsets.ISO_8859_1), allowed);
    }

    // ---------------------------------------------------------------- slow and stalled clients

    @Test
    void slowClientThatFinishesInTimeIsAnswered() {
        byte[] request = ("GET /v1/topic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        // One byte at a time, finishing well within the request timeout.
        Duration pause = Duration.ofMillis(Math.max(1, 1_200 / request.length));
        try (HttpWire wire = new HttpWire(server.port(), Duration.ofSeconds(5))) {
            int sent = wire.sendSlowly(request, pause);
            assertEquals(request.length, sent, "the server closed after " + sent + " of " + request.length + " bytes");
            HttpWire.Response r = wire.read();
            observed.put(
                    "slow client, 1 byte every " + pause.toMillis() + " ms, done in ~1.2 s",
                    Integer.toString(r.status()));
            assertEquals(200, r.status(), r.body());
            assertEquals(
                    "existing", JsonField.get(r.body().substring(1, r.body().length() - 1), "topic"));
        }
    }

    /**
     * Requests that never complete must not hold a connection: each is closed within the request
     * timeout (plus scheduling slack), optionally after a 408 EREQUEST_TIMEOUT. A trickle of single
     * bytes must not reset the clock (slowloris). Cases run in parallel, so a server that never
     * closes costs one timeout, not one per case.
     */
    @Test
    void stalledRequestsAreClosedWithinTheRequestTimeout() throws Exception {
        Map<String, Stall> stalls = new TreeMap<>();
        stalls.put("connection that sends nothing", new Stall(new byte[0], Duration.ZERO));
        stalls.put("half a request line", new Stall("GET /heal".getBytes(StandardCharsets.US_ASCII), Duration.ZERO));
        stalls.put(
                "head without the final blank line",
                new Stall("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII), Duration.ZERO));
        stalls.put(
                "body shorter than Content-Length",
                new Stall(
                        post("/v1/topic", "Content-Length: 100\r\n", "{\"topic\":")
                                .getBytes(StandardCharsets.US_ASCII),
                        Duration.ZERO));
        stalls.put(
                "chunked body without its last chunk",
                new Stall(
                        post("/v1/topic", "Transfer-Encoding: chunked\r\n", "5\r\n{\"top\r\n")
                                .getBytes(StandardCharsets.US_ASCII),
                        Duration.ZERO));
        // Slowloris: a header byte every 400 ms forever; the clock must not restart with each byte.
        stalls.put(
                "slowloris (a byte every 400 ms, never done)",
                new Stall(
                        ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(200))
                                .getBytes(StandardCharsets.US_ASCII),
                        Duration.ofMillis(400)));
        stalls.put("idle keep-alive connection after a response", new Stall(null, Duration.ZERO));

        ExecutorService pool = Executors.newFixedThreadPool(stalls.size());
        try {
            Map<String, Future<String>> results = new TreeMap<>();
            stalls.forEach((name, stall) -> results.put(name, pool.submit(() -> stall.run(server.port()))));
            List<String> wrong = new ArrayList<>();
            for (Map.Entry<String, Future<String>> r : results.entrySet()) {
                String outcome = r.getValue().get(30, TimeUnit.SECONDS);
                observed.put("stalled: " + r.getKey(), outcome);
                if (!outcome.startsWith("closed")) {
                    wrong.add(r.getKey() + " → " + outcome);
                }
            }
            assertTrue(
                    wrong.isEmpty(),
                    "not closed within the request timeout (" + REQUEST_TIMEOUT_SECONDS + " s + " + SLACK.toSeconds()
                            + " s slack; courier.http.request.timeout.seconds):\n  " + String.join("\n  ", wrong));
        } finally {
            pool.shutdownNow();
        }
    }

    /** A client that sends {@code bytes} (null: one complete request first) at {@code pace} per byte, then waits. */
    private record Stall(byte[] bytes, Duration pace) {
        String run(int port) {
            Duration limit = Duration.ofSeconds(REQUEST_TIMEOUT_SECONDS).plus(SLACK);
            long start = System.nanoTime();
            try (HttpWire wire = new HttpWire(port, limit)) {
                if (bytes == null) {
                    wire.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                    HttpWire.Response first = wire.read();
                    if (first.status() != 200) {
                        return "first request answered " + first;
                    }
                    start = System.nanoTime(); // the timeout runs from the previous response
                } else if (pace.isZero()) {
                    wire.send(bytes);
                } else {
                    // Trickle until the server closes or the limit passes.
                    long deadline = start + limit.toNanos();
                    for (int i = 0; i < bytes.length && System.nanoTime() < deadline; i++) {
                        if (wire.sendSlowly(new byte[] {bytes[i]}, pace) == 0) {
                            break;
                        }
                        pause(pace);
                    }
                }
                Duration left = limit.minusNanos(System.nanoTime() - start);
                Optional<HttpWire.Response> answer = Optional.empty();
                boolean closed;
                if (left.isNegative()) {
                    closed = wire.awaitClose(Duration.ofMillis(1)); // trickled past the limit: it must be closed by now
                } else {
                    try {
                        answer = wire.readOrClosed(); // bounded by the limit (the socket's read timeout)
                        closed = answer.isEmpty() || wire.awaitClose(Duration.ofSeconds(1));
                    } catch (AssertionError noAnswerNoClose) {
                        closed = false;
                    }
                }
                long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
                String answered = answer.map(r -> " after " + r.status() + " " + JsonField.get(r.body(), "error.code"))
                        .orElse("");
                if (answer.isPresent() && answer.get().status() != 408) {
                    return "answered " + answer.get() + " instead of timing out";
                }
                if (answer.isPresent()
                        && !"EREQUEST_TIMEOUT".equals(JsonField.get(answer.get().body(), "error.code"))) {
                    return "408 without the EREQUEST_TIMEOUT body: " + answer.get();
                }
                return closed
                        ? "closed" + answered + " after " + ms + " ms"
                        : "still open after " + ms + " ms" + answered;
            }
        }

        private static void pause(Duration d) {
            try {
                Thread.sleep(d.toMillis()); // pacing a slow client, not synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- random mutations

    @Test
    void randomlyMutatedRequestsGetCleanAnswersOrAreClosed() throws Exception {
        Random rnd = new Random(SEED);
        String body = "{\"topic\":\"fuzzed\"}";
        String[] templates = {
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "GET /v1/topic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n",
            post("/v1/topic", contentLength(body), body),
            post(
                    "/v1/hook",
                    contentLength("{\"action\":\"publish\",\"topic\":\"existing\",\"message\":{}}"),
                    "{\"action\":\"publish\",\"topic\":\"existing\",\"message\":{}}"),
            "OPTIONS /v1/topic HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\nAccess-Control-Request-Method: POST\r\n\r\n",
            "GET /ws?token=abc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n",
        };
        List<byte[]> requests = new ArrayList<>();
        for (int i = 0; i < RANDOM_REQUESTS; i++) {
            requests.add(mutate(rnd, templates[rnd.nextInt(templates.length)].getBytes(StandardCharsets.ISO_8859_1)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(32);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> wrong = new ArrayList<>();
        try {
            List<Future<String>> results = new ArrayList<>();
            for (byte[] r : requests) {
                results.add(pool.submit(() ->
                        outcome(r, Duration.ofSeconds(REQUEST_TIMEOUT_SECONDS).plus(SLACK))));
            }
            for (int i = 0; i < results.size(); i++) {
                String outcome;
                try {
                    outcome = results.get(i).get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    outcome = "failed: " + e.getCause().getMessage();
                }
                String kind = outcome.replaceFirst("^(\\d+).*?( close)?$", "$1$2");
                if (!outcome.matches("[1-4]\\d\\d( [A-Z_]+)?( close)?|close")) {
                    wrong.add("#" + i + " " + show(requests.get(i)) + " → " + outcome);
                    kind = "WRONG";
                }
                outcomes.merge(kind, 1, Integer::sum);
            }
        } catch (TimeoutException e) {
            throw new AssertionError("a mutated request was neither answered nor closed", e);
        } finally {
            pool.shutdownNow();
        }
        observed.put("random mutations (" + RANDOM_REQUESTS + ", seed " + SEED + ")", outcomes.toString());
        assertTrue(
                wrong.isEmpty(),
                "[seed " + SEED + ", rerun with -Dcourier.fuzz.seed=" + SEED + "] " + wrong.size() + " of "
                        + RANDOM_REQUESTS
                        + " mutated requests were answered badly or left hanging past the request timeout:\n  "
                        + String.join("\n  ", wrong.subList(0, Math.min(20, wrong.size()))));
    }

    private static byte[] mutate(Random rnd, byte[] request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(request);
        byte[] b = out.toByteArray();
        for (int m = 1 + rnd.nextInt(3); m > 0; m--) {
            int at = rnd.nextInt(b.length + 1);
            byte[][] inserts = {
                {'\r'},
                {'\n'},
                {'\r', '\n'},
                {' '},
                {':'},
                {0},
                {(byte) 0xFF},
                {'%'},
                {'0'},
                {'"'},
                {'\t'},
                "\r\nX-Injected: 1".getBytes(StandardCharsets.US_ASCII),
                "\r\nContent-Length: 7".getBytes(StandardCharsets.US_ASCII),
                "\r\nTransfer-Encoding: chunked".getBytes(StandardCharsets.US_ASCII)
            };
            b = switch (rnd.nextInt(4)) {
                case 0 -> splice(b, at, Math.min(b.length, at + 1 + rnd.nextInt(3)), new byte[0]); // delete
                case 1 -> splice(b, at, at, inserts[rnd.nextInt(inserts.length)]);
                case 2 -> at < b.length ? splice(b, at, at + 1, new byte[] {(byte) rnd.nextInt(256)}) : b; // replace
                default ->
                    splice(
                            b,
                            at,
                            at,
                            Arrays.copyOfRange(b, at, Math.min(b.length, at + 1 + rnd.nextInt(30)))); // duplicate
            };
        }
        return b;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b, 0, from);
        out.writeBytes(insert);
        out.write(b, to, b.length - to);
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- helpers

    private static void assertOutcome(String name, byte[] request, Set<String> allowed) {
        String outcome = outcome(request, Duration.ofSeconds(5));
        observed.put(name, outcome);
        String kind = outcome.replaceFirst("^(\\d+)( [A-Z_]+)?", "$1");
        boolean ok = allowed.contains(kind)
                || allowed.contains(NOT_5XX) && (outcome.equals("close") || outcome.matches("[1-4]\\d\\d.*"));
        assertTrue(ok, name + ": got " + outcome + ", expected one of " + allowed);
    }

    /**
     * Sends the bytes on a new connection and describes what happened: {@code STATUS [CODE] [close]}
     * or {@code close}. Fails on an error body that is not the documented JSON, or on a 5xx.
     */
    private static String outcome(byte[] request, Duration wait) {
        try (HttpWire wire = new HttpWire(server.port(), wait)) {
            wire.send(request);
            Optional<HttpWire.Response> r = wire.readOrClosed();
            if (r.isEmpty()) {
                return "close";
            }
            HttpWire.Response response = r.get();
            String code = "";
            if (response.status() >= 400) {
                String contentType = response.header("Content-Type").orElse("");
                if (!contentType.startsWith("application/json")) {
                    return "bad: " + response.status() + " with Content-Type '" + contentType
                            + "' instead of the JSON error: '" + response.body() + "'";
                }
                code = JsonField.get(response.body(), "error.code");
                if (code == null || !CODES.contains(code)) {
                    return "bad: " + response.status() + " with an unknown error body: " + response.body();
                }
                if (ErrorCode.valueOf(code).httpStatus() != response.status()) {
                    return "bad: " + response.status() + " carrying " + code + " (whose status is "
                            + ErrorCode.valueOf(code).httpStatus() + ")";
                }
                code = " " + code;
            }
            boolean closed = response.header("Connection")
                            .map(v -> v.equalsIgnoreCase("close"))
                            .orElse(false)
                    ? wire.awaitClose(Duration.ofSeconds(2))
                    : wire.awaitClose(Duration.ofMillis(300));
            return response.status() + code + (closed ? " close" : "");
        } catch (AssertionError e) {
            return "no answer and not closed within " + wait + " (" + e.getMessage() + ")";
        }
    }

    private static Arguments arguments(String name, String request, Set<String> allowed) {
        return Arguments.of(name, request, allowed);
    }

    private static String post(String path, String headers, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/json\r\n" + headers + "\r\n" + body;
    }

    private static String postTyped(String contentType, String latin1Body) {
        return "POST /v1/topic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + "Content-Length: " + latin1Body.length() + "\r\n\r\n" + latin1Body;
    }

    private static String contentLength(String body) {
        return "Content-Length: " + body.getBytes(StandardCharsets.ISO_8859_1).length + "\r\n";
    }

    private static String chunked(String... chunks) {
        StringBuilder s = new StringBuilder();
        for (String c : chunks) {
            s.append(Integer.toHexString(c.length())).append("\r\n").append(c).append("\r\n");
        }
        return s.append("0\r\n\r\n").toString();
    }

    private static byte[] junk() {
        byte[] b = new byte[300];
        new Random(42).nextBytes(b);
        return b;
    }

    private static String show(byte[] request) {
        String s = new String(request, StandardCharsets.ISO_8859_1)
                .replace("\r", "\\r")
                .replace("\n", "\\n")
                .replace("\u0000", "\\0")
                .replaceAll("Bearer [A-Za-z0-9._-]+", "Bearer TOKEN");
        return s.length() > 160 ? s.substring(0, 160) + "..." : s;
    }
}
