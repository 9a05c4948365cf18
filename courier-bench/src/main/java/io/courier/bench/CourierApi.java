package io.courier.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * The REST calls a load run needs: create the audience and topics, sign connection keys, and hook
 * broadcasts. The JDK client is thread-safe; {@link SignedKeys} keeps signing on the main thread.
 */
final class CourierApi {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final JsonFactory JSON = new JsonFactory();

    private final URI base;
    private final String bearer;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    CourierApi(URI base, String bearerToken) {
        this.base = base;
        this.bearer = "Bearer " + bearerToken;
    }

    /** The single {@code aud} of a JWT, read without verifying it (the server does that). */
    static Optional<String> audienceOf(String jwt) {
        try {
            List<String> aud = JWTParser.parse(jwt).getJWTClaimsSet().getAudience();
            return aud.size() == 1 ? Optional.of(aud.get(0)) : Optional.empty();
        } catch (ParseException e) {
            return Optional.empty();
        }
    }

    /** An HS256 token for {@code audience}, valid for an hour: what gotrue or a backend would hand out. */
    static String mint(String secret, String audience) {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .audience(audience)
                .subject("courier-bench")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofHours(1))))
                .build();
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.HS256)
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
        try {
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("--secret: unusable for HS256 (" + e.getMessage() + ")", e);
        }
        return jwt.serialize();
    }

    void createAudience() {
        call("POST", "/v1/audience", null, 200, 201);
    }

    /** Creates {@code topic}; one that already exists is fine. */
    void createTopic(String topic) {
        createTopic(topic, 0);
    }

    /** Creates {@code topic} keeping the last {@code historySize} messages (0: no history); one that exists is fine. */
    void createTopic(String topic, int historySize) {
        String history = historySize == 0 ? "" : ",\"history\":{\"size\":" + historySize + "}";
        call("POST", "/v1/topic", "{\"topic\":\"" + topic + "\"" + history + "}", 201, 409);
    }

    /** A fresh connection key; it opens any number of sockets until it expires (60 s by default). */
    String sign() {
        String body = call("GET", "/v1/sign", null, 200);
        try (JsonParser p = JSON.createParser(body)) {
            while (p.nextToken() != null) {
                if (p.currentToken() == JsonToken.FIELD_NAME
                        && "key".equals(p.currentName())
                        && p.nextToken() == JsonToken.VALUE_STRING) {
                    return p.getText();
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("GET /v1/sign: unreadable answer " + body, e);
        }
        throw new IllegalStateException("GET /v1/sign: no key in " + body);
    }

    /** {@code POST /v1/hook} broadcasting {@code messageJson} to the whole audience; true when acknowledged. Any thread. */
    boolean hookBroadcast(String messageJson) {
        try {
            call("POST", "/v1/hook", "{\"action\":\"broadcast\",\"message\":" + messageJson + "}", 200);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** {@code POST /v1/hook} with a whole request object; true when acknowledged. Any thread. */
    boolean hookPublish(String requestJson) {
        try {
            call("POST", "/v1/hook", requestJson, 200);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private String call(String method, String path, String json, int... expected) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).header("Authorization", bearer);
        if (json != null) {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " " + path + ": interrupted", e);
        }
        for (int status : expected) {
            if (response.statusCode() == status) {
                return response.body();
            }
        }
        throw new IllegalStateException(
                method + " " + path + ": HTTP " + response.statusCode() + " " + response.body());
    }
}
