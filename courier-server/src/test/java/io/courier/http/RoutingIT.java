package io.courier.http;

import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertErrorBody;
import static io.courier.http.ApiAssertions.assertJsonContentType;
import static io.courier.http.ApiAssertions.assertStatus;
import static io.courier.http.ApiAssertions.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.HttpWire;
import io.courier.testing.JsonField;
import io.courier.testing.ServerClient;
import io.courier.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every request meets before a route answers: the router (404, 405), the body limit (413),
 * JSON parsing (400), health probes, CORS and HTTP/1.1 connection handling.
 */
class RoutingIT {
    private static final int BODY_LIMIT = 1024;
    private static final String ORIGIN = "https://app.example";
    /** Every raw read; also how long a connection must stay open to count as kept alive. */
    private static final Duration RAW_TIMEOUT = Duration.ofSeconds(5);

    @RegisterExtension
    static final CourierExtension server =
            CourierExtension.with(Map.of("courier.http.max.body.bytes", Integer.toString(BODY_LIMIT)));

    // ---------------------------------------------------------------- router

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/",
                "/nope",
                "/v1",
                "/v1/nope",
                "/v1/topics",
                "/v1/topic/",
                "/v1/topic/news",
                "/V1/TOPIC",
                "/healthz/"
            })
    void unknownPathIsNotFound(String path) {
        assertError(server.get(path, server.token(TestServer.uniqueAudience())), 404, ErrorCode.ENOT_FOUND);
        assertError(server.get(path, null), 404, ErrorCode.ENOT_FOUND);
    }

    @Test
    void queryStringDoesNotChangeTheRoute() {
        HttpResponse<String> response = server.get("/healthz?verbose=1&x=%20", null);

        assertStatus(200, response);
        assertEquals("ok", JsonField.get(response.body(), "status"));
    }

    @ParameterizedTest(name = "{0} {1} allows {2}")
    @CsvSource({
        "DELETE, /v1/topic,    GET POST",
        "PUT,    /v1/topic,    GET POST",
        "GET,    /v1/audience, POST",
        "DELETE, /v1/audience, POST",
        "POST,   /v1/sign,     GET",
        "GET,    /v1/hook,     POST",
        "POST,   /healthz,     GET",
        "PATCH,  /readyz,      GET",
    })
    void wrongMethodIsMethodNotAllowedWithAllowHeader(String method, String path, String allowed) {
        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri(path)).method(method, HttpRequest.BodyPublishers.ofString("{}")),
                server.token(TestServer.uniqueAudience()));

        assertError(response, 405, ErrorCode.EMETHOD_NOT_ALLOWED);
        String allow = response.headers().firstValue("Allow").orElse(null);
        assertNotNull(allow, "405 without Allow");
        Set<String> listed = Arrays.stream(allow.split(",")).map(String::trim).collect(Collectors.toSet());
        listed.remove("OPTIONS"); // CORS preflights are answered on every path
        assertEquals(Set.of(allowed.split(" ")), listed, "Allow: " + allow);
    }

    @Test
    void plainOptionsRequestIsAnsweredWithAllow() {
        // Allow lists OPTIONS on every path, so an OPTIONS request without CORS headers must not be 405.
        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic")).method("OPTIONS", HttpRequest.BodyPublishers.noBody()),
                null);

        assertTrue(
                response.statusCode() == 200 || response.statusCode() == 204,
                "OPTIONS /v1/topic -> " + response.statusCode() + " " + response.body());
        String allow = response.headers().firstValue("Allow").orElse("");
        assertTrue(allow.contains("GET") && allow.contains("POST"), "Allow: " + allow);
    }

    // ---------------------------------------------------------------- bodies

    @Test
    void bodyOverTheLimitIsTooLarge() {
        String token = server.setUp(TestServer.uniqueAudience());
        String body = "{\"topic\":\"" + "t".repeat(2 * BODY_LIMIT) + "\"}";

        HttpResponse<String> response = server.post("/v1/topic", token, body);

        assertError(response, 413, ErrorCode.EBODY_TOO_LARGE);
        assertTrue(
                JsonField.get(response.body(), "error.message").contains(Integer.toString(BODY_LIMIT)),
                response.body());
        // The refused connection is gone, but the server is not.
        assertStatus(200, server.get("/healthz", null));
    }

    @Test
    void chunkedBodyOverTheLimitIsTooLarge() {
        String token = server.setUp(TestServer.uniqueAudience());
        byte[] body = ("{\"topic\":\"" + "t".repeat(4 * BODY_LIMIT) + "\"}").getBytes(StandardCharsets.UTF_8);

        // A stream publisher has no known length, so the JDK client sends it chunked.
        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))),
                token);

        assertError(response, 413, ErrorCode.EBODY_TOO_LARGE);
    }

    @Test
    void bodyOfExactlyTheLimitIsAccepted() {
        String token = server.setUp(TestServer.uniqueAudience());
        String json = "{\"topic\":\"at-the-limit\"}";
        String body = json + " ".repeat(BODY_LIMIT - json.length());
        assertEquals(BODY_LIMIT, body.getBytes(StandardCharsets.UTF_8).length);

        assertStatus(201, server.post("/v1/topic", token, body));
        assertError(server.post("/v1/topic", token, body + " "), 413, ErrorCode.EBODY_TOO_LARGE);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "{",
                "{\"topic\":",
                "{\"topic\":\"news\"",
                "{topic:\"news\"}",
                "{'topic':'news'}",
                "not json",
                "[]",
                "[{\"topic\":\"news\"}]",
                "\"news\"",
                "42",
                "null",
                "{\"topic\":\"news\"} trailing",
                "{\"topic\":\"news\"}{}",
            })
    void bodyThatIsNotOneJsonObjectIsBadRequest(String body) {
        String token = server.setUp(TestServer.uniqueAudience());

        assertError(server.post("/v1/topic", token, body), 400, ErrorCode.EBODY_INVALID);
        assertEquals("[]", server.get("/v1/topic", token).body(), "nothing was created");
    }

    @Test
    void invalidUtf8BodyIsBadRequest() {
        String token = server.setUp(TestServer.uniqueAudience());
        byte[] body = {'{', '"', 't', 'o', 'p', 'i', 'c', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};

        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)),
                token);

        assertError(response, 400, ErrorCode.EBODY_INVALID);
    }

    @Test
    void deeplyNestedBodyIsBadRequestNotStackOverflow() {
        String token = server.setUp(TestServer.uniqueAudience());
        String body = "{\"topic\":\"news\",\"x\":" + "[".repeat(200) + "]".repeat(200) + "}";

        assertError(server.post("/v1/topic", token, body), 400, ErrorCode.EBODY_INVALID);
    }

    @Test
    void malformedBodyMessageDoesNotEchoTheBody() {
        String token = server.setUp(TestServer.uniqueAudience());

        HttpResponse<String> response = server.post("/v1/topic", token, "{\"topic\": secret-value-do-not-echo}");

        assertError(response, 400, ErrorCode.EBODY_INVALID);
        assertFalse(response.body().contains("secret-value-do-not-echo"), response.body());
    }

    // ---------------------------------------------------------------- health

    @Test
    void healthzIsOkWithoutToken() {
        HttpResponse<String> response = server.get("/healthz", null);

        assertStatus(200, response);
        assertJsonContentType(response.headers().firstValue("Content-Type").orElse(null), response.body());
        assertEquals(Map.of("status", "ok"), object(response.body()));
    }

    @Test
    void readyzIsOkWithoutTokenWhenTheDatabaseAnswers() {
        HttpResponse<String> response = server.get("/readyz", null);

        assertStatus(200, response);
        assertJsonContentType(response.headers().firstValue("Content-Type").orElse(null), response.body());
        assertEquals("ready", JsonField.get(response.body(), "status"));
    }

    // ---------------------------------------------------------------- CORS

    @Test
    void corsPreflightIsAnsweredForAnyOriginByDefault() {
        HttpResponse<String> response = server.send(preflight(server, "/v1/topic", ORIGIN), null);

        assertTrue(
                response.statusCode() == 200 || response.statusCode() == 204, "preflight -> " + response.statusCode());
        String allowOrigin =
                response.headers().firstValue("Access-Control-Allow-Origin").orElse(null);
        assertTrue(
                "*".equals(allowOrigin) || ORIGIN.equals(allowOrigin), "Access-Control-Allow-Origin: " + allowOrigin);
        Set<String> methods = tokens(
                response.headers().firstValue("Access-Control-Allow-Methods").orElse(""));
        assertTrue(methods.containsAll(Set.of("get", "post")), "Access-Control-Allow-Methods: " + methods);
        Set<String> headers = tokens(
                response.headers().firstValue("Access-Control-Allow-Headers").orElse(""));
        assertTrue(
                headers.containsAll(Set.of("authorization", "content-type")),
                "Access-Control-Allow-Headers: " + headers);
    }

    @Test
    void simpleRequestWithOriginGetsAllowOrigin() {
        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/healthz"))
                        .header("Origin", ORIGIN)
                        .GET(),
                null);

        assertStatus(200, response);
        String allowOrigin =
                response.headers().firstValue("Access-Control-Allow-Origin").orElse(null);
        assertTrue(
                "*".equals(allowOrigin) || ORIGIN.equals(allowOrigin), "Access-Control-Allow-Origin: " + allowOrigin);
    }

    @Test
    void errorResponsesCarryAllowOriginSoBrowsersCanReadThem() {
        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .header("Origin", ORIGIN)
                        .GET(),
                null);

        assertError(response, 401, ErrorCode.ETOKEN_INVALID);
        assertTrue(
                response.headers().firstValue("Access-Control-Allow-Origin").isPresent(),
                "401 without Access-Control-Allow-Origin");
    }

    @Test
    void configuredOriginsRefuseOtherOrigins() {
        try (TestServer strict = TestServer.start(Map.of("courier.cors.allowed.origins", "https://a.example"))) {
            HttpResponse<String> allowed = strict.send(preflight(strict, "/v1/topic", "https://a.example"), null);
            HttpResponse<String> refused = strict.send(preflight(strict, "/v1/topic", "https://b.example"), null);

            assertTrue(
                    allowed.statusCode() == 200 || allowed.statusCode() == 204, "preflight -> " + allowed.statusCode());
            assertEquals(
                    "https://a.example",
                    allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(
                    refused.statusCode() == 200 || refused.statusCode() == 204 || refused.statusCode() == 403,
                    "preflight -> " + refused.statusCode());
            assertEquals(
                    null,
                    refused.headers().firstValue("Access-Control-Allow-Origin").orElse(null),
                    "b.example must not be allowed");
            assertTrue(
                    tokens(refused.headers()
                                    .firstValue("Access-Control-Allow-Methods")
                                    .orElse(""))
                            .isEmpty(),
                    "no methods are granted to b.example");
        }
    }

    /**
     * CORS is enforced by the browser: a refused origin's request is answered (a non-browser client
     * could send it anyway) but carries no grant, so a page from that origin cannot read the answer.
     */
    @Test
    void requestFromRefusedOriginCarriesNoCorsGrant() {
        try (TestServer strict = TestServer.start(Map.of("courier.cors.allowed.origins", "https://a.example"))) {
            HttpResponse<String> allowed = strict.send(
                    HttpRequest.newBuilder(strict.uri("/healthz"))
                            .header("Origin", "https://a.example")
                            .GET(),
                    null);
            HttpResponse<String> refused = strict.send(
                    HttpRequest.newBuilder(strict.uri("/healthz"))
                            .header("Origin", "https://b.example")
                            .GET(),
                    null);
            HttpResponse<String> noOrigin = strict.get("/healthz", null);

            assertStatus(200, allowed);
            assertEquals(
                    "https://a.example",
                    allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertStatus(200, noOrigin);
            assertStatus(200, refused);
            assertEquals(
                    null,
                    refused.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        }
    }

    // ---------------------------------------------------------------- connections

    @Test
    void sequentialRequestsShareOneKeptAliveConnection() throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        String token = server.setUp(TestServer.uniqueAudience());
        List<HttpRequest> requests = List.of(
                HttpRequest.newBuilder(server.uri("/healthz"))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"kept\"}"))
                        .build(),
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token)
                        .GET()
                        .build());

        int[] statuses = new int[3];
        for (int i = 0; i < 3; i++) {
            statuses[i] = client.send(requests.get(i), HttpResponse.BodyHandlers.ofString())
                    .statusCode();
        }

        assertEquals(List.of(200, 201, 200), Arrays.stream(statuses).boxed().toList());
    }

    @Test
    void threeRequestsOnOneRawConnectionAreAllAnswered() {
        String token = server.setUp(TestServer.uniqueAudience());
        try (HttpWire conn = new HttpWire(server.port(), RAW_TIMEOUT)) {
            HttpWire.Response health = conn.exchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            String body = "{\"topic\":\"raw\"}";
            HttpWire.Response created =
                    conn.exchange("POST /v1/topic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                            + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
                            + body);
            HttpWire.Response missing = conn.exchange("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

            assertEquals(200, health.status());
            assertEquals(201, created.status());
            assertEquals(404, missing.status());
            assertErrorBody(missing.body(), ErrorCode.ENOT_FOUND, "raw GET /nope");
            assertFalse(conn.awaitClose(RAW_TIMEOUT), "a keep-alive connection stays open");
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInRequestOrder() {
        // RFC 9112 section 9.3.2: a server MUST send responses in the order the requests were received.
        // The first request needs the database (a worker thread), the second is answered on the event loop.
        String token = server.setUp(TestServer.uniqueAudience(), "first");
        try (HttpWire conn = new HttpWire(server.port(), RAW_TIMEOUT)) {
            conn.send("GET /v1/topic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

            HttpWire.Response first = conn.read();
            HttpWire.Response second = conn.read();
            HttpWire.Response third = conn.read();

            assertEquals(200, first.status());
            assertTrue(first.body().startsWith("["), "first answer is the topic list: " + first.body());
            assertEquals(200, second.status());
            assertEquals("ok", JsonField.get(second.body(), "status"));
            assertEquals(404, third.status());
            assertErrorBody(third.body(), ErrorCode.ENOT_FOUND, "pipelined GET /nope");
        }
    }

    @Test
    void connectionCloseIsHonoured() {
        try (HttpWire conn = new HttpWire(server.port(), RAW_TIMEOUT)) {
            HttpWire.Response response =
                    conn.exchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

            assertEquals(200, response.status());
            assertEquals("close", response.header("Connection").orElse("").toLowerCase(Locale.ROOT));
            assertTrue(conn.awaitClose(RAW_TIMEOUT), "server keeps a Connection: close connection open");
        }
    }

    @Test
    void malformedRequestLineIsBadRequestAndClosesTheConnection() {
        try (HttpWire conn = new HttpWire(server.port(), RAW_TIMEOUT)) {
            HttpWire.Response response = conn.exchange("THIS IS NOT HTTP\r\n\r\n");

            assertEquals(400, response.status());
            assertJsonContentType(response.header("Content-Type").orElse(null), response.body());
            assertErrorBody(response.body(), ErrorCode.EBODY_INVALID, "malformed request line");
            assertTrue(conn.awaitClose(RAW_TIMEOUT), "the decoder cannot resynchronise; the connection must close");
        }
    }

    @Test
    void oversizedHeaderIsBadRequestAndClosesTheConnection() {
        try (HttpWire conn = new HttpWire(server.port(), RAW_TIMEOUT)) {
            HttpWire.Response response = conn.exchange(
                    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "x".repeat(16 * 1024) + "\r\n\r\n");

            assertTrue(response.status() == 400 || response.status() == 431, "status " + response.status());
            assertJsonContentType(response.header("Content-Type").orElse(null), response.body());
            assertErrorBody(response.body(), ErrorCode.EBODY_INVALID, "oversized header");
            // After a refused head Netty's decoder discards every later byte: a connection left open
            // would swallow the client's next request and never answer it.
            conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertTrue(
                    conn.awaitClose(RAW_TIMEOUT),
                    "connection left open after an undecodable request; the next request hangs");
        }
    }

    private static HttpRequest.Builder preflight(ServerClient target, String path, String origin) {
        return HttpRequest.newBuilder(target.uri(path))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody());
    }

    /** A comma-separated header value as lower-case tokens. */
    private static Set<String> tokens(String header) {
        return Arrays.stream(header.split(","))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    }
}
