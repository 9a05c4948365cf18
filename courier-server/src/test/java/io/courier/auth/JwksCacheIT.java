package io.courier.auth;

import static io.courier.auth.TestTokens.CLOCK;
import static io.courier.auth.TestTokens.NOW;
import static io.courier.auth.TestTokens.sign;
import static io.courier.auth.TestTokens.validClaims;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.PlainJWT;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys from {@code courier.jwt.jwks.url}, served by a real HTTP server on 127.0.0.1: first fetch,
 * rotation, outages, unknown kids, the rate limit, and that verification never waits for a fetch.
 */
class JwksCacheIT {
    /** Short enough to watch nimbus's cache expire and the rate limit reopen within a test. */
    private static final JwksCache.Timing FAST = new JwksCache.Timing(
            Duration.ofMillis(600), Duration.ofMillis(200), Duration.ofMillis(50), Duration.ofSeconds(1));

    private static final Duration WAIT = Duration.ofSeconds(5);

    private static RSAKey keyA;
    private static RSAKey keyB;

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void generateKeys() throws JOSEException {
        keyA = new RSAKeyGenerator(2048).keyID("key-a").generate();
        keyB = new RSAKeyGenerator(2048).keyID("key-b").generate();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    private JwksServer server(JWK... keys) {
        JwksServer server = new JwksServer(keys);
        closeAfter.add(server);
        return server;
    }

    private TokenVerifier verifier(JwksServer server, String algorithm, JwksCache.Timing timing) {
        var config = TestTokens.jwksConfig(server.url(), algorithm);
        JwtKeys keys = JwtKeys.load(config, dir, timing);
        closeAfter.add(0, keys);
        return new TokenVerifier(keys, config, CLOCK);
    }

    private static String rs256(RSAKey key, String kid) {
        try {
            return sign(
                    new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(),
                    validClaims().build(),
                    new RSASSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String rs256(RSAKey key) {
        return rs256(key, key.getKeyID());
    }

    private static boolean accepts(TokenVerifier verifier, String token) {
        try {
            verifier.verify(token);
            return true;
        } catch (CourierException e) {
            return false;
        }
    }

    private static CourierException refusal(TokenVerifier verifier, String token) {
        CourierException e = assertThrows(CourierException.class, () -> verifier.verify(token));
        assertEquals(ErrorCode.ETOKEN_INVALID, e.code());
        return e;
    }

    private static void awaitAccepted(TokenVerifier verifier, String token, String what) {
        Await.until(() -> accepts(verifier, token), WAIT, what);
    }

    // ---------------------------------------------------------------- fetching and rotation

    @Test
    void tokenSignedWithAPublishedKeyVerifies() {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", JwksCache.Timing.DEFAULT);

        awaitAccepted(verifier, rs256(keyA), "the first fetch");
        Principal principal = verifier.verify(rs256(keyA));
        assertEquals(
                new Principal("authenticated", Optional.of("5f2b8c1e-user"), Optional.of(NOW.plusSeconds(3600))),
                principal);
        assertEquals(1, server.requests(), "one fetch serves every later token");
    }

    @Test
    void unknownKidIsRefusedWithReasonUnknownKey() {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", JwksCache.Timing.DEFAULT);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");

        CourierException e = refusal(verifier, rs256(keyA, "key-nobody-published"));
        assertEquals("unknown_key", e.reason());
        assertEquals("no key matches the token's kid", e.getMessage());
    }

    @Test
    void rotatedKeyIsAcceptedOnceFetchedAndTheRemovedKeyIsRefused() {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", JwksCache.Timing.DEFAULT);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");

        server.serve(keyB);
        String signedWithB = rs256(keyB);
        // The first token with the new kid may be refused (no waiting on the event loop), but only as unknown_key.
        try {
            verifier.verify(signedWithB);
        } catch (CourierException e) {
            assertEquals("unknown_key", e.reason());
        }
        awaitAccepted(verifier, signedWithB, "the refresh triggered by kid key-b");
        assertEquals("unknown_key", refusal(verifier, rs256(keyA)).reason(), "key-a is no longer published");
        assertEquals(2, server.requests(), "the first fetch and one refresh");
    }

    @Test
    void startsWhileTheUrlFailsAndRecovers() {
        JwksServer server = server(keyA);
        server.fail();
        TokenVerifier verifier = verifier(server, "", FAST);

        Await.until(() -> server.requests() >= 1, WAIT, "the first (failing) fetch");
        assertEquals("unknown_key", refusal(verifier, rs256(keyA)).reason());
        server.serve(keyA);
        awaitAccepted(verifier, rs256(keyA), "a fetch after the URL recovered");
    }

    // ---------------------------------------------------------------- outages

    @Test
    void lastGoodSetStaysWhileTheUrlAnswers500() {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", FAST);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");

        server.fail();
        int before = server.requests();
        // Unknown kids force refreshes too; neither they nor the expiring cache may empty the key set.
        assertEquals("unknown_key", refusal(verifier, rs256(keyB)).reason());
        Await.until(() -> server.requests() >= before + 3, WAIT, "three failed fetches");
        assertTrue(accepts(verifier, rs256(keyA)), "key-a still verifies during the outage");

        server.serve(keyA, keyB);
        awaitAccepted(verifier, rs256(keyB), "a fetch after the URL recovered");
        assertTrue(accepts(verifier, rs256(keyA)));
    }

    @Test
    void lastGoodSetStaysWhileTheServerIsGone() {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", FAST);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");

        server.close();
        // An invariant over several cache lifetimes (600 ms each), each ending in a failed fetch: not a sleep to wait
        // for something.
        // At least one check after the window, however slowly the checks run.
        long end = System.nanoTime() + Duration.ofMillis(2000).toNanos();
        int checks = 0;
        do {
            assertTrue(accepts(verifier, rs256(keyA)), "key-a still verifies with the server gone, check " + checks);
            accepts(verifier, rs256(keyB)); // unknown kid: a refresh attempt against the dead URL
            checks++;
        } while (System.nanoTime() < end);
    }

    // ---------------------------------------------------------------- never blocking, rate limit

    /**
     * The fetch hangs until the test releases it, after the verifications, and its HTTP timeout is
     * 10 minutes: a verifier that waited for it would hang. The bound says "hangs", not "slow".
     */
    @Test
    void verificationNeverWaitsForAHangingFetch() {
        JwksServer server = server(keyA);
        server.hang();
        JwksCache.Timing slow = new JwksCache.Timing(
                Duration.ofMinutes(5), Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofMinutes(10));

        TokenVerifier verifier = verifier(server, "", slow);
        Await.until(() -> server.requests() >= 1, WAIT, "the first fetch to hang");
        try {
            assertTimeoutPreemptively(
                    Duration.ofMinutes(1),
                    () -> {
                        for (int i = 0; i < 20; i++) {
                            assertEquals(
                                    "unknown_key",
                                    refusal(verifier, rs256(keyA)).reason());
                        }
                    },
                    "a verification waited for the hanging fetch");
        } finally {
            server.release();
        }
        awaitAccepted(verifier, rs256(keyA), "the fetch once the server answers");
    }

    @Test
    void burstOfUnknownKidsCausesAtMostAFewFetches() throws InterruptedException {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", JwksCache.Timing.DEFAULT);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");
        assertEquals(1, server.requests());

        for (int i = 0; i < 100; i++) {
            assertEquals(
                    "unknown_key",
                    refusal(verifier, rs256(keyA, UUID.randomUUID().toString())).reason());
            Thread.sleep(5); // pacing, so the burst spans many refresh cycles instead of one coalesced refresh
        }
        Await.until(() -> server.requests() >= 2, WAIT, "the one refresh the rate limit allows");
        // Nimbus allows two fetches per 30 s, and the first fetch used one of them.
        long end = System.nanoTime() + Duration.ofMillis(300).toNanos();
        while (System.nanoTime() < end) {
            assertTrue(server.requests() <= 3, "fetches: " + server.requests());
        }
        assertEquals(2, server.requests(), "the first fetch and one refresh for 100 unknown kids");
        assertTrue(accepts(verifier, rs256(keyA)), "the known key still verifies");
    }

    // ---------------------------------------------------------------- algorithms and keys

    @Test
    void es256KeysFromJwksVerify() throws JOSEException {
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        JwksServer server = server(ec);
        TokenVerifier verifier = verifier(server, "ES256", FAST);

        String token = sign(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(),
                validClaims().build(),
                new ECDSASigner(ec));
        awaitAccepted(verifier, token, "the first fetch");
        assertEquals(
                "algorithm RS256 not accepted (expected ES256)",
                refusal(verifier, rs256(keyA)).getMessage());
    }

    @Test
    void keysThatDoNotFitTheAlgorithmAreIgnored() throws JOSEException {
        RSAKey encryption =
                new RSAKeyGenerator(2048).keyID("enc").keyUse(KeyUse.ENCRYPTION).generate();
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
        OctetSequenceKey hmac = new OctetSequenceKeyGenerator(256).keyID("hmac").generate();
        JwksServer server = server();
        // An issuer that (wrongly) publishes a secret: its kid must not turn an HS256 token into a valid one.
        server.serveRaw("{\"keys\":[" + keyA.toPublicJWK().toJSONString() + ","
                + encryption.toPublicJWK().toJSONString() + ","
                + ec.toPublicJWK().toJSONString() + "," + hmac.toJSONString() + "]}");
        TokenVerifier verifier = verifier(server, "", FAST);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");

        assertEquals("unknown_key", refusal(verifier, rs256(encryption)).reason(), "use=enc");
        String hs256 = sign(
                new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("hmac").build(),
                validClaims().build(),
                new MACSigner(hmac));
        assertEquals(
                "algorithm HS256 not accepted (expected RS256)",
                refusal(verifier, hs256).getMessage());
    }

    @Test
    void jwksConfigRefusesAlgorithmConfusionNoneAndCrit() throws JOSEException {
        JwksServer server = server(keyA);
        TokenVerifier verifier = verifier(server, "", JwksCache.Timing.DEFAULT);
        awaitAccepted(verifier, rs256(keyA), "the first fetch");
        int fetches = server.requests();

        // Everything an attacker can download, used as an HMAC secret.
        String jwksJson = new JWKSet(keyA).toString(true);
        for (byte[] secret : List.of(
                jwksJson.getBytes(StandardCharsets.UTF_8),
                keyA.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8),
                keyA.getModulus().decode(),
                keyA.toPublicKey().getEncoded())) {
            String confused = sign(
                    new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("key-a").build(),
                    validClaims().build(),
                    new MACSigner(pad(secret)));
            CourierException e = refusal(verifier, confused);
            assertEquals("algorithm HS256 not accepted (expected RS256)", e.getMessage());
        }
        assertEquals(
                "algorithm none is not accepted",
                refusal(verifier, new PlainJWT(validClaims().build()).serialize())
                        .getMessage());
        String crit = sign(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .keyID("key-a")
                        .criticalParams(Set.of("courier-x"))
                        .customParam("courier-x", 1)
                        .build(),
                validClaims().build(),
                new RSASSASigner(keyA));
        assertEquals(
                "critical header parameters are not supported",
                refusal(verifier, crit).getMessage());
        assertEquals(fetches, server.requests(), "header refusals come before key lookup and cause no fetch");
    }

    @Test
    void describesTheUrlAndCannotSign() {
        JwksServer server = server(keyA);
        var config = TestTokens.jwksConfig(server.url(), "");
        try (JwtKeys keys = JwtKeys.load(config, dir, FAST)) {
            assertEquals("RS256 public keys from JWKS " + server.url(), keys.describe());
            assertEquals(JWSAlgorithm.RS256, keys.algorithm());
            assertFalse(keys.canSign());
        }
    }

    /** MACSigner wants at least 256 bits; short inputs (never the case for real keys) are padded. */
    private static byte[] pad(byte[] secret) {
        return secret.length >= 32 ? secret : Arrays.copyOf(secret, 32);
    }
}
