package io.courier.auth;

import static io.courier.auth.TestTokens.CLOCK;
import static io.courier.auth.TestTokens.validClaims;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import io.courier.config.ConfigException;
import io.courier.error.CourierException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JwtKeysTest {
    @TempDir
    Path dir;

    @Test
    void generatesOwnerOnlySecretInMissingDataDir() throws Exception {
        Path dataDir = dir.resolve("data/nested");
        JwtKeys keys = JwtKeys.load(TestTokens.generatedConfig(), dataDir);

        Path file = dataDir.resolve("jwt-secret");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(JWSAlgorithm.HS256, keys.algorithm());
        assertTrue(keys.canSign());
        assertEquals("HS256 secret generated in " + file.toAbsolutePath(), keys.describe());
        String secret = Files.readString(file);
        assertTrue(secret.length() >= 43, "256 bits as base64url: " + secret.length() + " characters");
        assertFalse(keys.describe().contains(secret));
        try (var leftovers = Files.list(dataDir)) {
            assertEquals(1, leftovers.count(), "no temporary files left behind");
        }
    }

    @Test
    void reusesGeneratedSecretOnNextLoad() throws Exception {
        JwtKeys first = JwtKeys.load(TestTokens.generatedConfig(), dir);
        String secret = Files.readString(dir.resolve("jwt-secret"));
        JwtKeys second = JwtKeys.load(TestTokens.generatedConfig(), dir);

        assertEquals(secret, Files.readString(dir.resolve("jwt-secret")));
        String token = new TokenIssuer(first).issue("acme", Optional.empty(), Duration.ofMinutes(5));
        assertEquals(
                "acme",
                new TokenVerifier(second, TestTokens.generatedConfig())
                        .verify(token)
                        .audience());
    }

    @Test
    void generatedSecretWorksAsConfiguredSecretElsewhere() throws Exception {
        // The file's text is the HMAC key, so an operator can hand it to the token issuer as-is.
        JwtKeys generated = JwtKeys.load(TestTokens.generatedConfig(), dir);
        String secret = Files.readString(dir.resolve("jwt-secret"));
        String token = TestTokens.hs256Token(secret);
        assertEquals(
                "authenticated",
                new TokenVerifier(generated, TestTokens.generatedConfig(), CLOCK)
                        .verify(token)
                        .audience());
    }

    @Test
    void separateDataDirsGenerateDifferentSecrets() {
        JwtKeys a = JwtKeys.load(TestTokens.generatedConfig(), dir.resolve("a"));
        JwtKeys b = JwtKeys.load(TestTokens.generatedConfig(), dir.resolve("b"));
        String token = new TokenIssuer(a).issue("acme", Optional.empty(), Duration.ofMinutes(5));

        CourierException e = assertThrows(
                CourierException.class, () -> new TokenVerifier(b, TestTokens.generatedConfig()).verify(token));
        assertEquals("bad signature", e.getMessage());
    }

    @Test
    void configuredSecretIsDescribedWithoutItsValue() {
        JwtKeys keys = JwtKeys.load(TestTokens.secretConfig(TestTokens.SECRET, "", Optional.empty()), dir);
        assertEquals("HS256 secret from courier.jwt.secret", keys.describe());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "a configured secret must not create a file");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void secretTooShortForHs512IsConfigError() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> JwtKeys.load(TestTokens.secretConfig(TestTokens.SECRET, "HS512", Optional.empty()), dir));
        assertEquals("courier.jwt.secret: too short for HS512 (expected: at least 64 bytes)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "not a key at all",
                "{\"kty\":\"RSA\",\"n\":",
                "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n",
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
            })
    void garbledKeyFileIsConfigError(String content) {
        Path file = TestTokens.write(dir.resolve("key.pem"), content);
        ConfigException e =
                assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir));
        assertTrue(e.getMessage().startsWith("courier.jwt.key.file: "), e.getMessage());
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
    }

    @Test
    void unreadableKeyFileIsConfigError() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> JwtKeys.load(TestTokens.keyFileConfig(dir.resolve("missing.pem"), ""), dir));
        assertTrue(e.getMessage().startsWith("courier.jwt.key.file: cannot read "), e.getMessage());
    }

    @Test
    void privateKeyPemIsRefusedWithHint() throws Exception {
        var pair = KeyPairGenerator.getInstance("RSA");
        pair.initialize(2048);
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder()
                        .encodeToString(pair.generateKeyPair().getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        Path file = TestTokens.write(dir.resolve("private.pem"), pem);
        ConfigException e =
                assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir));
        assertTrue(e.getMessage().contains("PRIVATE KEY block (expected: PUBLIC KEY or CERTIFICATE"), e.getMessage());
    }

    @Test
    void keyTypeNotMatchingAlgorithmIsConfigError() throws Exception {
        Path file = TestTokens.write(
                dir.resolve("ec.json"),
                new ECKeyGenerator(Curve.P_256).generate().toPublicJWK().toJSONString());
        ConfigException e =
                assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.keyFileConfig(file, "RS256"), dir));
        assertEquals(
                "courier.jwt.key.file: " + file.toAbsolutePath()
                        + " holds an EC key, but the algorithm is RS256 (expected: an RSA key)",
                e.getMessage());
    }

    @Test
    void ecKeyOnOtherCurveIsConfigError() throws Exception {
        Path file = TestTokens.write(
                dir.resolve("p384.json"),
                new ECKeyGenerator(Curve.P_384).generate().toPublicJWK().toJSONString());
        ConfigException e =
                assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir));
        assertTrue(e.getMessage().endsWith("holds a P-384 key (expected: P-256 for ES256)"), e.getMessage());
    }

    @Test
    void rsaKeyShorterThan2048BitsIsConfigError() throws Exception {
        var generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(1024);
        Path file = TestTokens.writePem(
                dir.resolve("weak.pem"), generator.generateKeyPair().getPublic());
        ConfigException e =
                assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir));
        assertTrue(e.getMessage().endsWith("holds a 1024-bit RSA key (expected: at least 2048 bits)"), e.getMessage());
    }

    @Test
    void symmetricJwkIsConfigError() {
        Path file = TestTokens.write(dir.resolve("oct.json"), "{\"kty\":\"oct\",\"k\":\"" + "A".repeat(43) + "\"}");
        ConfigException e =
                assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir));
        assertTrue(e.getMessage().contains("HMAC secrets belong in courier.jwt.secret"), e.getMessage());
    }

    @Test
    void publicKeyDescribesItsFileAndCannotSign() throws Exception {
        var generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        Path file = TestTokens.writePem(
                dir.resolve("key.pem"), generator.generateKeyPair().getPublic());
        JwtKeys keys = JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir);
        assertEquals("RS256 public key from " + file.toAbsolutePath(), keys.describe());
        assertFalse(keys.canSign());
    }

    /**
     * The JWKS URL points at a listening socket that never answers, and fetches time out only after
     * 10 minutes: a load or a verification that waited for the fetch would hang. The bound says
     * "hangs", not "slow": none of the work here is near a minute even on a loaded machine.
     */
    @Test
    // The accepted socket is held open, unread, so that the fetch stays in flight.
    @SuppressWarnings("try")
    void jwksUrlLoadsWithoutWaitingForTheNetwork() throws Exception {
        JwksCache.Timing neverAnswered = new JwksCache.Timing(
                Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofMinutes(10));
        String token = TestTokens.sign(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k").build(),
                validClaims().build(),
                new RSASSASigner(new RSAKeyGenerator(2048).generate()));
        // The kernel completes the connection from the backlog; nobody ever reads the request.
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            silent.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
            var config = TestTokens.jwksConfig(
                    URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/.well-known/jwks.json"), "");
            try (JwtKeys keys = assertTimeoutPreemptively(
                    Duration.ofMinutes(1),
                    () -> JwtKeys.load(config, dir, neverAnswered),
                    "JwtKeys.load waited for the JWKS fetch")) {
                try (Socket fetch = silent.accept()) {
                    // The first fetch is in flight and will not be answered while this test runs.
                    TokenVerifier verifier = new TokenVerifier(keys, config, CLOCK);
                    CourierException e = assertTimeoutPreemptively(
                            Duration.ofMinutes(1),
                            () -> assertThrows(CourierException.class, () -> verifier.verify(token)),
                            "verify waited for the JWKS fetch");
                    assertEquals("unknown_key", e.reason());
                    assertEquals(JWSAlgorithm.RS256, keys.algorithm(), "RS256 unless configured otherwise");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"HS256", "HS512"})
    void hmacAlgorithmWithJwksUrlIsConfigError(String algorithm) {
        var config = TestTokens.jwksConfig(URI.create("https://auth.example.com/.well-known/jwks.json"), algorithm);
        ConfigException e = assertThrows(ConfigException.class, () -> JwtKeys.load(config, dir));
        assertEquals(
                "courier.jwt.algorithm: " + algorithm
                        + " cannot be used with courier.jwt.jwks.url (expected: RS256 or ES256)",
                e.getMessage());
    }

    @Test
    void closeIsHarmlessForKeysWithoutUrl() {
        JwtKeys keys = JwtKeys.load(TestTokens.secretConfig(TestTokens.SECRET, "", Optional.empty()), dir);
        keys.close();
        keys.close();
        assertEquals(
                "authenticated",
                new TokenVerifier(keys, TestTokens.generatedConfig(), CLOCK)
                        .verify(TestTokens.hs256Token(TestTokens.SECRET))
                        .audience());
    }

    @Test
    void truncatedSecretFileIsConfigError() throws Exception {
        Files.writeString(dir.resolve("jwt-secret"), "short", StandardCharsets.UTF_8);
        ConfigException e = assertThrows(ConfigException.class, () -> JwtKeys.load(TestTokens.generatedConfig(), dir));
        assertTrue(e.getMessage().startsWith("courier.data.dir: "), e.getMessage());
        assertFalse(e.getMessage().contains("short"), "the message must not echo the file's content");
    }
}
