package io.courier.testing;

import io.courier.CourierServer;
import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The real server, in-process on an ephemeral loopback port with its own data directory and
 * embedded H2, plus the small client conveniences every integration test needs.
 */
public final class TestServer implements AutoCloseable {
    public static final String SECRET = "test-secret-for-courier-integration-tests-0123456789";

    private final Map<String, String> overrides;
    private final CourierServer server;
    private final TokenIssuer issuer;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Set when {@link #restart} hands the data directory to a new instance, which then deletes it. */
    private boolean handedOn;

    private TestServer(Map<String, String> overrides) {
        this.overrides = overrides;
        Config config = ConfigLoader.load(Optional.empty(), Map.of(), overrides);
        this.server = CourierServer.start(config);
        this.issuer = new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()));
    }

    /** A server with a fresh data directory; {@code extra} are property overrides. */
    public static TestServer start(Map<String, String> extra) {
        try {
            Path dir = Files.createTempDirectory("courier-test");
            Map<String, String> overrides = new HashMap<>();
            overrides.put("courier.host", "127.0.0.1");
            overrides.put("courier.port", "0");
            overrides.put("courier.data.dir", dir.toString());
            overrides.put("courier.jwt.secret", SECRET);
            overrides.put("courier.shutdown.timeout.seconds", "2");
            overrides.putAll(extra);
            return new TestServer(overrides);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TestServer start() {
        return start(Map.of());
    }

    /** A new server on the same data directory and settings (to test what survives a restart). */
    public TestServer restart() {
        server.close();
        handedOn = true;
        return new TestServer(overrides);
    }

    public CourierServer server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    public String token(String audience) {
        return token(audience, Duration.ofHours(1));
    }

    public String token(String audience, Duration ttl) {
        return issuer.issue(audience, Optional.of("user-1"), ttl);
    }

    /** An audience name no other test uses. */
    public static String uniqueAudience() {
        return "aud-" + UUID.randomUUID() + ".example.com";
    }

    public HttpResponse<String> get(String path, String token) {
        return send(HttpRequest.newBuilder(uri(path)).GET(), token);
    }

    public HttpResponse<String> post(String path, String token, String body) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)), token);
    }

    public HttpResponse<String> send(HttpRequest.Builder request, String token) {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpClient http() {
        return http;
    }

    /** A signed connection key for {@code token}'s audience, from {@code GET /v1/sign}. */
    public String sign(String token) {
        HttpResponse<String> r = get("/v1/sign", token);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /v1/sign: " + r.statusCode() + " " + r.body());
        }
        return JsonField.get(r.body(), "key");
    }

    /** The loopback WebSocket URL for a signed key. */
    public String wsUrl(String key) {
        return "ws://127.0.0.1:" + port() + "/ws?token=" + key;
    }

    /** Signs, connects and takes the {@code connected} frame. */
    public WsClient connect(String token) {
        WsClient client = WsClient.connect(http, wsUrl(sign(token)));
        String first = client.next();
        if (!"connected".equals(JsonField.get(first, "action"))) {
            throw new AssertionError("expected the connected frame, got " + first);
        }
        return client;
    }

    /** Creates the audience and the topics, asserting each call succeeds; returns a token for it. */
    public String setUp(String audience, String... topics) {
        String token = token(audience);
        int status = post("/v1/audience", token, "").statusCode();
        if (status != 201 && status != 200) {
            throw new AssertionError("POST /v1/audience: " + status);
        }
        for (String topic : topics) {
            HttpResponse<String> r = post("/v1/topic", token, "{\"topic\":\"" + topic + "\"}");
            if (r.statusCode() != 201) {
                throw new AssertionError("POST /v1/topic " + topic + ": " + r.statusCode() + " " + r.body());
            }
        }
        return token;
    }

    @Override
    public void close() {
        server.close();
        if (!handedOn) {
            deleteTree(Path.of(overrides.get("courier.data.dir")));
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory is harmless
        }
    }
}
