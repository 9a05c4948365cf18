package io.courier.testing;

import io.courier.CourierServer;
import io.courier.auth.TokenIssuer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * What an integration test does against a running server: tokens, JSON requests with the JDK
 * client, signed connection keys and WebSocket connections. Written once here for both ways a test
 * holds a server: {@link TestServer} (started and closed by the test) and {@link CourierExtension}
 * (one server per test class). Any thread.
 */
public abstract class ServerClient {
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The running server; fails when there is none (an extension outside its test class). */
    public abstract CourierServer server();

    /** Signs tokens with the running server's keys. */
    protected abstract TokenIssuer issuer();

    /** An audience name no other test uses. */
    public static String uniqueAudience() {
        return "aud-" + UUID.randomUUID() + ".example.com";
    }

    public int port() {
        return server().port();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    public String token(String audience) {
        return token(audience, Duration.ofHours(1));
    }

    public String token(String audience, Duration ttl) {
        return issuer().issue(audience, Optional.of("user-1"), ttl);
    }

    public HttpResponse<String> get(String path, String token) {
        return send(HttpRequest.newBuilder(uri(path)).GET(), token);
    }

    public HttpResponse<String> post(String path, String token, String body) {
        return send(
                HttpRequest.newBuilder(uri(path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)),
                token);
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
}
