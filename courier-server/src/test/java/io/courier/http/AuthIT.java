package io.courier.http;

import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bearer tokens at the REST API: every {@code /v1} route needs one, and every kind of bad token is
 * refused with 401 ETOKEN_INVALID. The server is configured with HS256 and {@link TestServer#SECRET}
 * and the default 60 s clock skew.
 */
class AuthIT {
    private static final String OTHER_SECRET = "another-secret-that-is-long-enough-for-hmac-sha256-0123";

    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "POST, /v1/audience",
        "POST, /v1/topic",
        "GET,  /v1/topic",
        "GET,  /v1/sign",
        "POST, /v1/hook",
    })
    void everyV1RouteWithoutAuthorizationIsUnauthorized(String method, String path) {
        HttpResponse<String> response = server.send(request(method, path), null);

        assertError(response, 401, ErrorCode.ETOKEN_INVALID);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "POST, /v1/audience",
        "POST, /v1/topic",
        "GET,  /v1/topic",
        "GET,  /v1/sign",
        "POST, /v1/hook",
    })
    void everyV1RouteRefusesATokenSignedWithAnotherSecret(String method, String path) {
        String audience = TestServer.uniqueAudience();
        server.setUp(audience, "news");
        String forged = hmac(OTHER_SECRET, validClaims(audience).build());

        HttpResponse<String> response =
                server.send(request(method, path).header("Authorization", "Bearer " + forged), null);

        assertError(response, 401, ErrorCode.ETOKEN_INVALID);
    }

    static Stream<Arguments> refusedAuthorizations() {
        Instant now = Instant.now();
        return Stream.of(
                refused("Basic scheme", aud -> "Basic dXNlcjpwYXNzd29yZA==", null),
                refused(
                        "Basic scheme with a valid token",
                        aud -> "Basic " + hs256(validClaims(aud).build()),
                        null),
                refused("Bearer without a token", aud -> "Bearer", null),
                refused("token without a scheme", aud -> hs256(validClaims(aud).build()), null),
                refused("garbage token", aud -> "Bearer not-a-jwt", null),
                refused("three garbage parts", aud -> "Bearer abc.def.ghi", null),
                refused(
                        "signed with another secret",
                        aud -> "Bearer " + hmac(OTHER_SECRET, validClaims(aud).build()),
                        "signature"),
                refused(
                        "payload swapped after signing",
                        aud -> "Bearer "
                                + swapPayload(
                                        hs256(validClaims(TestServer.uniqueAudience())
                                                .build()),
                                        validClaims(aud).build()),
                        "signature"),
                refused(
                        "expired beyond the skew",
                        aud -> "Bearer "
                                + hs256(validClaims(aud)
                                        .issueTime(Date.from(now.minusSeconds(7200)))
                                        .expirationTime(Date.from(now.minusSeconds(300)))
                                        .build()),
                        "expired"),
                refused(
                        "nbf beyond the skew",
                        aud -> "Bearer "
                                + hs256(validClaims(aud)
                                        .notBeforeTime(Date.from(now.plusSeconds(600)))
                                        .build()),
                        "not yet valid"),
                refused(
                        "no aud",
                        aud -> "Bearer "
                                + hs256(validClaims(aud).audience((String) null).build()),
                        "aud"),
                refused(
                        "empty aud",
                        aud -> "Bearer " + hs256(validClaims(aud).audience("").build()),
                        "aud"),
                refused(
                        "two audiences",
                        aud -> "Bearer "
                                + hs256(validClaims(aud)
                                        .audience(List.of(aud, TestServer.uniqueAudience()))
                                        .build()),
                        "audiences"),
                refused(
                        "missing exp",
                        aud -> "Bearer "
                                + hs256(validClaims(aud).expirationTime(null).build()),
                        "exp"),
                refused(
                        "alg none",
                        aud -> "Bearer " + new PlainJWT(validClaims(aud).build()).serialize(),
                        "none"),
                refused(
                        "HS512 with the server's secret",
                        aud -> "Bearer "
                                + hmacManually(
                                        "HS512",
                                        "HmacSHA512",
                                        TestServer.SECRET,
                                        validClaims(aud).build()),
                        "HS512"),
                refused(
                        "HS384 with the server's secret",
                        aud -> "Bearer "
                                + hmacManually(
                                        "HS384",
                                        "HmacSHA384",
                                        TestServer.SECRET,
                                        validClaims(aud).build()),
                        "HS384"));
    }

    private static Arguments refused(String why, Function<String, String> authorization, String messageMentions) {
        return Arguments.of(why, authorization, messageMentions);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedAuthorizations")
    void refusedAuthorizationIsUnauthorized(
            String why, Function<String, String> authorization, String messageMentions) {
        String audience = TestServer.uniqueAudience();
        String valid = server.setUp(audience, "news");
        // The audience exists and a good token works, so the 401 below is the token's fault alone.
        assertStatus(200, server.get("/v1/topic", valid));

        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .header("Authorization", authorization.apply(audience))
                        .GET(),
                null);

        assertError(response, 401, ErrorCode.ETOKEN_INVALID);
        if (messageMentions != null) {
            String message = JsonField.get(response.body(), "error.message");
            assertTrue(
                    message.toLowerCase().contains(messageMentions.toLowerCase()),
                    why + ": message '" + message + "' should mention '" + messageMentions + "'");
        }
    }

    @Test
    void refusalNeverEchoesTheToken() {
        String audience = TestServer.uniqueAudience();
        server.setUp(audience);
        String forged = hmac(OTHER_SECRET, validClaims(audience).build());

        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .header("Authorization", "Bearer " + forged)
                        .GET(),
                null);

        assertError(response, 401, ErrorCode.ETOKEN_INVALID);
        for (String part : forged.split("\\.")) {
            assertTrue(!response.body().contains(part), "the refusal echoes part of the token: " + response.body());
        }
    }

    static Stream<Arguments> acceptedAuthorizations() {
        Instant now = Instant.now();
        return Stream.of(
                Arguments.of("issued by the server's issuer", (Function<String, String>)
                        aud -> "Bearer " + server.token(aud)),
                Arguments.of("lower-case scheme (RFC 7235 section 2.1)", (Function<String, String>)
                        aud -> "bearer " + server.token(aud)),
                Arguments.of("upper-case scheme", (Function<String, String>) aud -> "BEARER " + server.token(aud)),
                Arguments.of("built with nimbus, no typ", (Function<String, String>) aud -> "Bearer "
                        + hmac(
                                TestServer.SECRET,
                                new JWSHeader(JWSAlgorithm.HS256),
                                validClaims(aud).build())),
                Arguments.of("aud as a one-element array", (Function<String, String>) aud -> "Bearer "
                        + hmacManuallyWithPayload(
                                "HS256",
                                "HmacSHA256",
                                TestServer.SECRET,
                                "{\"aud\":[\"" + aud + "\"],\"sub\":\"u1\",\"exp\":"
                                        + now.plusSeconds(3600).getEpochSecond() + "}")),
                Arguments.of("expired within the skew", (Function<String, String>) aud -> "Bearer "
                        + hs256(validClaims(aud)
                                .issueTime(Date.from(now.minusSeconds(3600)))
                                .expirationTime(Date.from(now.minusSeconds(20)))
                                .build())),
                Arguments.of("nbf within the skew", (Function<String, String>) aud -> "Bearer "
                        + hs256(validClaims(aud)
                                .notBeforeTime(Date.from(now.plusSeconds(20)))
                                .build())),
                Arguments.of("without sub", (Function<String, String>)
                        aud -> "Bearer " + hs256(validClaims(aud).subject(null).build())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("acceptedAuthorizations")
    void acceptedAuthorizationReachesTheRoute(String why, Function<String, String> authorization) {
        String audience = TestServer.uniqueAudience();
        server.setUp(audience, "news");

        HttpResponse<String> response = server.send(
                HttpRequest.newBuilder(server.uri("/v1/topic"))
                        .header("Authorization", authorization.apply(audience))
                        .GET(),
                null);

        assertStatus(200, response);
        assertTrue(response.body().contains("\"news\""), why + ": " + response.body());
    }

    @Test
    void configuredIssuerMustMatchExactly() {
        String issuer = "https://issuer.test";
        try (TestServer strict = TestServer.start(Map.of("courier.jwt.issuer", issuer))) {
            String audience = TestServer.uniqueAudience();

            HttpResponse<String> noIssuer =
                    strict.post("/v1/audience", hs256(validClaims(audience).build()), "");
            HttpResponse<String> otherIssuer = strict.post(
                    "/v1/audience",
                    hs256(validClaims(audience).issuer("https://other.test").build()),
                    "");
            HttpResponse<String> prefixIssuer = strict.post(
                    "/v1/audience",
                    hs256(validClaims(audience).issuer(issuer + "/").build()),
                    "");
            HttpResponse<String> matching = strict.post(
                    "/v1/audience", hs256(validClaims(audience).issuer(issuer).build()), "");

            assertError(noIssuer, 401, ErrorCode.ETOKEN_INVALID);
            assertError(otherIssuer, 401, ErrorCode.ETOKEN_INVALID);
            assertError(prefixIssuer, 401, ErrorCode.ETOKEN_INVALID);
            assertTrue(JsonField.get(otherIssuer.body(), "error.message").contains("issuer"), otherIssuer.body());
            assertStatus(201, matching);
        }
    }

    // ---------------------------------------------------------------- token builders

    private static HttpRequest.Builder request(String method, String path) {
        HttpRequest.Builder builder =
                HttpRequest.newBuilder(server.uri(path)).header("Content-Type", "application/json");
        return method.equals("GET")
                ? builder.GET()
                : builder.method(
                        method,
                        HttpRequest.BodyPublishers.ofString(
                                "{\"topic\":\"news\",\"action\":\"broadcast\",\"message\":{}}"));
    }

    /** Claims the server accepts: aud, sub, iat now, exp in an hour. */
    private static JWTClaimsSet.Builder validClaims(String audience) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .audience(audience)
                .subject("user-1")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)));
    }

    private static String hs256(JWTClaimsSet claims) {
        return hmac(TestServer.SECRET, claims);
    }

    private static String hmac(String secret, JWTClaimsSet claims) {
        return hmac(
                secret,
                new JWSHeader.Builder(JWSAlgorithm.HS256)
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
    }

    private static String hmac(String secret, JWSHeader header, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An HMAC token signed by hand: nimbus refuses a secret shorter than the hash (RFC 7518 section
     * 3.2), but an attacker's token need not follow the rules.
     */
    private static String hmacManually(String alg, String macName, String secret, JWTClaimsSet claims) {
        return hmacManuallyWithPayload(alg, macName, secret, claims.toString());
    }

    private static String hmacManuallyWithPayload(String alg, String macName, String secret, String payloadJson) {
        String signingInput =
                Base64URL.encode("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + "." + Base64URL.encode(payloadJson);
        try {
            Mac mac = Mac.getInstance(macName);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), macName));
            return signingInput + "." + Base64URL.encode(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code token} with its payload replaced and its original signature kept. */
    private static String swapPayload(String token, JWTClaimsSet claims) {
        String[] parts = token.split("\\.");
        return parts[0] + "." + Base64URL.encode(claims.toString()) + "." + parts[2];
    }
}
