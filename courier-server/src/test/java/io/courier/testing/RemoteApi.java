package io.courier.testing;

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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The REST calls a test makes against a {@link ServerProcess}: tokens minted with the secret the
 * process was given, audience creation, signed socket keys, hook calls and {@code /metrics}, with
 * the JDK {@link HttpClient}. Every request times out after 10 s.
 */
public final class RemoteApi {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final String base;
    private final TokenIssuer issuer;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /** @param secret the process's COURIER_JWT_SECRET; {@code dataDir} is only needed to load the keys */
    public RemoteApi(int port, String secret, Path dataDir) {
        this.base = "http://127.0.0.1:" + port;
        Config config = ConfigLoader.load(
                Optional.empty(),
                Map.of(),
                Map.of("courier.jwt.secret", secret, "courier.data.dir", dataDir.toString()));
        this.issuer = new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()));
    }

    /** A one-hour token for {@code audience}, after creating the audience (201). */
    public String setUp(String audience) {
        String token = issuer.issue(audience, Optional.of("user-1"), Duration.ofHours(1));
        HttpResponse<String> r = post("/v1/audience", token, "");
        if (r.statusCode() != 201) {
            throw new AssertionError("POST /v1/audience: " + r.statusCode() + " " + r.body());
        }
        return token;
    }

    /** A signed connection key from {@code GET /v1/sign}. */
    public String sign(String token) {
        HttpResponse<String> r =
                send(HttpRequest.newBuilder(URI.create(base + "/v1/sign")).GET(), token);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /v1/sign: " + r.statusCode() + " " + r.body());
        }
        return JsonField.get(r.body(), "key");
    }

    public HttpResponse<String> post(String path, String token, String body) {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)),
                token);
    }

    /** The Prometheus text of {@code GET /metrics}. */
    public String scrape() {
        HttpResponse<String> r =
                send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET(), null);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /metrics: " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    public HttpClient http() {
        return http;
    }

    private HttpResponse<String> send(HttpRequest.Builder request, String token) {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
