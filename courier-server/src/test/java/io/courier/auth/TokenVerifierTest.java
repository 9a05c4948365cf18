package io.courier.auth;

import static io.courier.auth.TestTokens.CLOCK;
import static io.courier.auth.TestTokens.NOW;
import static io.courier.auth.TestTokens.SECRET;
import static io.courier.auth.TestTokens.hmac;
import static io.courier.auth.TestTokens.hs256;
import static io.courier.auth.TestTokens.sign;
import static io.courier.auth.TestTokens.validClaims;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.DirectEncrypter;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.PlainJWT;
import io.courier.config.Config;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TokenVerifierTest {
    private static final String ISSUER = "https://auth.example.com/auth/v1";
    private static final String LONG_SECRET = SECRET + "-long-enough-for-hmac-sha-512-signatures!";

    @TempDir
    Path dir;

    private static TokenVerifier hs256Verifier(Optional<String> issuer) {
        var config = TestTokens.secretConfig(SECRET, "", issuer);
        return new TokenVerifier(JwtKeys.load(config, Path.of("unused")), config, CLOCK);
    }

    private static final TokenVerifier WITH_ISSUER = hs256Verifier(Optional.of(ISSUER));

    private static String issued() {
        return hs256(validClaims().issuer(ISSUER).build());
    }

    static Stream<Arguments> refusals() throws Exception {
        return Stream.of(
                Arguments.of("no header", null, "missing Authorization header"),
                Arguments.of("empty header", "", "missing Authorization header"),
                Arguments.of("basic scheme", "Basic dXNlcjpwYXNz", "expected 'Bearer <token>'"),
                Arguments.of("scheme without token", "Bearer ", "expected 'Bearer <token>'"),
                Arguments.of("bare token without scheme", issued(), "expected 'Bearer <token>'"),
                Arguments.of("not a JWT", "Bearer not-a-jwt", "malformed token"),
                Arguments.of("garbage header", "Bearer e30K.e30K", "malformed token"),
                // Nimbus throws NullPointerException or IllegalArgumentException on these headers, not ParseException.
                Arguments.of("header JSON null", "Bearer " + b64("null") + ".e30.AAAA", "malformed token"),
                Arguments.of(
                        "header enc null",
                        "Bearer " + b64("{\"alg\":\"dir\",\"enc\":null}") + ".e30.AAAA",
                        "malformed token"),
                Arguments.of(
                        "header epk null",
                        "Bearer " + b64("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"epk\":null}") + ".e30.AAAA",
                        "malformed token"),
                Arguments.of(
                        "header authTag null",
                        "Bearer " + b64("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"authTag\":null}") + ".e30.AAAA",
                        "malformed token"),
                Arguments.of(
                        "payload not JSON",
                        "Bearer " + issued().replaceFirst("\\.[^.]+\\.", ".bm90LWpzb24."),
                        "malformed token"),
                Arguments.of(
                        "other secret",
                        "Bearer "
                                + hmac(
                                        JWSAlgorithm.HS256,
                                        "another-secret-that-is-32-bytes-or-longer",
                                        validClaims().issuer(ISSUER).build()),
                        "bad signature"),
                Arguments.of(
                        "alg none",
                        "Bearer " + new PlainJWT(validClaims().issuer(ISSUER).build()).serialize(),
                        "algorithm none is not accepted"),
                Arguments.of(
                        "other HMAC algorithm",
                        "Bearer "
                                + hmac(
                                        JWSAlgorithm.HS512,
                                        LONG_SECRET,
                                        validClaims().issuer(ISSUER).build()),
                        "algorithm HS512 not accepted (expected HS256)"),
                Arguments.of("encrypted", "Bearer " + encrypted(), "encrypted tokens are not accepted"),
                Arguments.of(
                        "expired",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .expirationTime(Date.from(NOW.minusSeconds(3600)))
                                        .build()),
                        "token expired"),
                Arguments.of(
                        "not yet valid",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .notBeforeTime(Date.from(NOW.plusSeconds(3600)))
                                        .build()),
                        "token not yet valid"),
                Arguments.of(
                        "no aud",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .audience((String) null)
                                        .build()),
                        "missing aud claim"),
                Arguments.of(
                        "empty aud",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .audience("")
                                        .build()),
                        "missing aud claim"),
                Arguments.of(
                        "several aud",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .audience(List.of("a", "b"))
                                        .build()),
                        "several audiences are not supported"),
                Arguments.of(
                        "aud too long",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .audience("a".repeat(256))
                                        .build()),
                        "aud claim longer than 255 characters"),
                Arguments.of(
                        "no exp",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer(ISSUER)
                                        .expirationTime(null)
                                        .build()),
                        "missing exp claim"),
                Arguments.of(
                        "other issuer",
                        "Bearer "
                                + hs256(validClaims()
                                        .issuer("https://evil.example.com")
                                        .build()),
                        "issuer mismatch"),
                Arguments.of("no issuer", "Bearer " + hs256(validClaims().build()), "issuer mismatch"),
                Arguments.of(
                        "unknown crit header",
                        "Bearer "
                                + sign(
                                        new JWSHeader.Builder(JWSAlgorithm.HS256)
                                                .criticalParams(Set.of("courier-x"))
                                                .customParam("courier-x", 1)
                                                .build(),
                                        validClaims().issuer(ISSUER).build(),
                                        new MACSigner(SECRET)),
                        "critical header parameters are not supported"),
                Arguments.of(
                        "foreign typ",
                        "Bearer "
                                + sign(
                                        new JWSHeader.Builder(JWSAlgorithm.HS256)
                                                .type(new JOSEObjectType("secevent+jwt"))
                                                .build(),
                                        validClaims().issuer(ISSUER).build(),
                                        new MACSigner(SECRET)),
                        "token type not accepted (expected JWT)"));
    }

    private static String b64(String json) {
        return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusesWithReason(String description, String authorization, String reason) {
        CourierException e = assertThrows(CourierException.class, () -> WITH_ISSUER.verifyBearer(authorization));
        assertEquals(ErrorCode.ETOKEN_INVALID, e.code());
        assertEquals(reason, e.getMessage());
        if (authorization != null && authorization.length() > 20) {
            String token = authorization.substring(authorization.indexOf(' ') + 1);
            assertFalse(e.getMessage().contains(token), "message must not echo the token");
        }
    }

    @Test
    void acceptsGotrueStyleHs256Token() throws Exception {
        // gotrue stamps typ JWT, a kid and extra claims; the kid must not stop a single configured secret.
        String token = sign(
                new JWSHeader.Builder(JWSAlgorithm.HS256)
                        .type(JOSEObjectType.JWT)
                        .keyID("gotrue-kid")
                        .build(),
                validClaims()
                        .issuer(ISSUER)
                        .claim("role", "authenticated")
                        .claim("email", "a@example.com")
                        .build(),
                new MACSigner(SECRET.getBytes()));
        Principal principal = WITH_ISSUER.verifyBearer("Bearer " + token);
        assertEquals(
                new Principal("authenticated", Optional.of("5f2b8c1e-user"), Optional.of(NOW.plusSeconds(3600))),
                principal);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "\"aud\":\"tenant\\ud800\"",
                "\"aud\":\"\\udc00tenant\"",
                "\"aud\":\"ten\\u0000ant\"",
                "\"aud\":\"tenant\\u009b\"",
                "\"aud\":\"ok\",\"sub\":\"user\\ud800\"",
                "\"aud\":\"ok\",\"sub\":\"user\\n\"",
                "\"aud\":\"ok\",\"sub\":\"\\u007f\""
            })
    void refusesAudienceOrSubjectThatIsNotAValidName(String claims) {
        String token = TestTokens.hs256Json(
                "{" + claims + ",\"exp\":" + NOW.plusSeconds(3600).getEpochSecond() + "}");
        CourierException e = assertThrows(
                CourierException.class, () -> hs256Verifier(Optional.empty()).verify(token));
        assertEquals(ErrorCode.ETOKEN_INVALID, e.code());
        assertEquals("claims", e.reason());
        assertTrue(e.getMessage().contains("claim is not a valid name"), e.getMessage());
    }

    @Test
    void acceptsAstralCharactersInAudienceAndSubject() {
        String token = TestTokens.hs256Json("{\"aud\":\"t\\ud83d\\ude00\",\"sub\":\"\\ud834\\udd1e\",\"exp\":"
                + NOW.plusSeconds(3600).getEpochSecond() + "}");
        Principal principal = hs256Verifier(Optional.empty()).verify(token);
        assertEquals("t\ud83d\ude00", principal.audience());
        assertEquals(Optional.of("\ud834\udd1e"), principal.subject());
    }

    @Test
    void acceptsTokenWithoutSubject() {
        Principal principal = WITH_ISSUER.verify(
                hs256(validClaims().issuer(ISSUER).subject(null).build()));
        assertEquals(new Principal("authenticated", Optional.empty(), Optional.of(NOW.plusSeconds(3600))), principal);
    }

    @Test
    void acceptsLowercaseBearerScheme() {
        assertEquals(
                "authenticated", WITH_ISSUER.verifyBearer("bearer " + issued()).audience());
    }

    @Test
    void acceptsTokenWithoutIssuerWhenNoneConfigured() {
        assertEquals(
                "authenticated",
                hs256Verifier(Optional.empty())
                        .verify(hs256(validClaims().build()))
                        .audience());
    }

    @Test
    void bareVerifyRefusesMissingToken() {
        CourierException e = assertThrows(CourierException.class, () -> WITH_ISSUER.verify(null));
        assertEquals("missing token", e.getMessage());
    }

    @Test
    void acceptsExpiryWithinSkewAndRefusesBeyondIt() {
        TokenVerifier verifier = hs256Verifier(Optional.empty());
        String withinSkew = hs256(
                validClaims().expirationTime(Date.from(NOW.minusSeconds(20))).build());
        String beyondSkew = hs256(
                validClaims().expirationTime(Date.from(NOW.minusSeconds(40))).build());
        assertEquals("authenticated", verifier.verify(withinSkew).audience());
        assertEquals(
                "token expired",
                assertThrows(CourierException.class, () -> verifier.verify(beyondSkew))
                        .getMessage());
    }

    @Test
    void acceptsNotBeforeWithinSkewAndRefusesBeyondIt() {
        TokenVerifier verifier = hs256Verifier(Optional.empty());
        String withinSkew = hs256(
                validClaims().notBeforeTime(Date.from(NOW.plusSeconds(20))).build());
        String beyondSkew = hs256(
                validClaims().notBeforeTime(Date.from(NOW.plusSeconds(40))).build());
        assertEquals("authenticated", verifier.verify(withinSkew).audience());
        assertEquals(
                "token not yet valid",
                assertThrows(CourierException.class, () -> verifier.verify(beyondSkew))
                        .getMessage());
    }

    @Test
    void acceptsConfiguredHs512() {
        var config = TestTokens.secretConfig(LONG_SECRET, "HS512", Optional.empty());
        TokenVerifier verifier = new TokenVerifier(JwtKeys.load(config, dir), config, CLOCK);
        assertEquals(
                "authenticated",
                verifier.verify(hmac(
                                JWSAlgorithm.HS512, LONG_SECRET, validClaims().build()))
                        .audience());
        CourierException e = assertThrows(
                CourierException.class,
                () -> verifier.verify(hs256(validClaims().build())));
        assertEquals("algorithm HS256 not accepted (expected HS512)", e.getMessage());
    }

    @Test
    void acceptsRs256FromPemPublicKey() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).generate();
        var config = TestTokens.keyFileConfig(TestTokens.writePem(dir.resolve("key.pem"), rsa.toPublicKey()), "");
        JwtKeys keys = JwtKeys.load(config, dir);
        TokenVerifier verifier = new TokenVerifier(keys, config, CLOCK);

        String token = sign(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("idp-key-1").build(),
                validClaims().build(),
                new RSASSASigner(rsa));
        assertEquals(JWSAlgorithm.RS256, keys.algorithm());
        assertEquals(
                new Principal("authenticated", Optional.of("5f2b8c1e-user"), Optional.of(NOW.plusSeconds(3600))),
                verifier.verify(token));
        String forged = sign(
                new JWSHeader(JWSAlgorithm.RS256),
                validClaims().build(),
                new RSASSASigner(new RSAKeyGenerator(2048).generate()));
        assertEquals(
                "bad signature",
                assertThrows(CourierException.class, () -> verifier.verify(forged))
                        .getMessage());
    }

    @Test
    void refusesHs256TokenSignedWithThePublicKeyAsSecret() throws Exception {
        // Algorithm confusion: a verifier that let the token pick HMAC would accept this, since the PEM is public.
        RSAKey rsa = new RSAKeyGenerator(2048).generate();
        Path pem = TestTokens.writePem(dir.resolve("key.pem"), rsa.toPublicKey());
        var config = TestTokens.keyFileConfig(pem, "RS256");
        TokenVerifier verifier = new TokenVerifier(JwtKeys.load(config, dir), config, CLOCK);

        String confused =
                sign(new JWSHeader(JWSAlgorithm.HS256), validClaims().build(), new MACSigner(Files.readAllBytes(pem)));
        CourierException e = assertThrows(CourierException.class, () -> verifier.verify(confused));
        assertEquals("algorithm HS256 not accepted (expected RS256)", e.getMessage());
    }

    @Test
    void principalCarriesTheTokensExpiry() {
        // Within the clock skew a token past its exp is still accepted; expiresAt is its exp, not now + skew.
        String token = hs256(
                validClaims().expirationTime(Date.from(NOW.minusSeconds(20))).build());
        assertEquals(
                Optional.of(NOW.minusSeconds(20)),
                hs256Verifier(Optional.empty()).verify(token).expiresAt());
    }

    @Test
    void refusesHs256TokenSignedWithTheEcJwkOrPemAsSecret() throws Exception {
        // Algorithm confusion with an EC key: whatever public form the attacker has, HMAC over it is refused.
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        String jwk = ec.toPublicJWK().toJSONString();
        var config = TestTokens.keyFileConfig(TestTokens.write(dir.resolve("key.json"), jwk), "");
        TokenVerifier verifier = new TokenVerifier(JwtKeys.load(config, dir), config, CLOCK);
        byte[] pem = Files.readAllBytes(TestTokens.writePem(dir.resolve("key.pem"), ec.toPublicKey()));

        for (byte[] secret : List.of(
                jwk.getBytes(StandardCharsets.UTF_8), pem, ec.toPublicKey().getEncoded())) {
            String confused = sign(
                    new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("ec-1").build(),
                    validClaims().build(),
                    new MACSigner(secret));
            CourierException e = assertThrows(CourierException.class, () -> verifier.verify(confused));
            assertEquals("algorithm HS256 not accepted (expected ES256)", e.getMessage());
            assertEquals("header", e.reason());
        }
    }

    @Test
    void publicKeyConfigRefusesAlgNoneAndCrit() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).generate();
        var config = TestTokens.keyFileConfig(TestTokens.writePem(dir.resolve("key.pem"), rsa.toPublicKey()), "");
        TokenVerifier verifier = new TokenVerifier(JwtKeys.load(config, dir), config, CLOCK);

        assertEquals(
                "algorithm none is not accepted",
                assertThrows(
                                CourierException.class,
                                () -> verifier.verify(new PlainJWT(validClaims().build()).serialize()))
                        .getMessage());
        String crit = sign(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .criticalParams(Set.of("courier-x"))
                        .customParam("courier-x", 1)
                        .build(),
                validClaims().build(),
                new RSASSASigner(rsa));
        assertEquals(
                "critical header parameters are not supported",
                assertThrows(CourierException.class, () -> verifier.verify(crit))
                        .getMessage());
    }

    @Test
    void acceptsEs256FromJwkFile() throws Exception {
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        var config = TestTokens.keyFileConfig(
                TestTokens.write(dir.resolve("key.json"), ec.toPublicJWK().toJSONString()), "");
        JwtKeys keys = JwtKeys.load(config, dir);
        TokenVerifier verifier = new TokenVerifier(keys, config, CLOCK);

        assertEquals(JWSAlgorithm.ES256, keys.algorithm());
        assertEquals(
                "authenticated",
                verifier.verify(sign(
                                new JWSHeader(JWSAlgorithm.ES256), validClaims().build(), new ECDSASigner(ec)))
                        .audience());
    }

    @Test
    void acceptsEs256FromPemCertificate() throws Exception {
        var config = TestTokens.keyFileConfig(TestTokens.write(dir.resolve("cert.pem"), EC_CERTIFICATE), "");
        TokenVerifier verifier = new TokenVerifier(JwtKeys.load(config, dir), config, CLOCK);
        ECPrivateKey privateKey = (ECPrivateKey) KeyFactory.getInstance("EC")
                .generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(EC_PRIVATE_KEY_PKCS8)));

        String token = sign(new JWSHeader(JWSAlgorithm.ES256), validClaims().build(), new ECDSASigner(privateKey));
        assertEquals("authenticated", verifier.verify(token).audience());
    }

    @Test
    void jwkSetWithSeveralKeysSelectsByKid() throws Exception {
        RSAKey a = new RSAKeyGenerator(2048).keyID("a").generate();
        RSAKey b = new RSAKeyGenerator(2048).keyID("b").generate();
        var config = TestTokens.keyFileConfig(
                TestTokens.write(dir.resolve("jwks.json"), new JWKSet(List.of(a, b)).toString()), "");
        JwtKeys keys = JwtKeys.load(config, dir);
        TokenVerifier verifier = new TokenVerifier(keys, config, CLOCK);

        assertEquals("RS256 public keys (2) from " + dir.resolve("jwks.json").toAbsolutePath(), keys.describe());
        assertEquals(
                "authenticated",
                verifier.verify(sign(
                                new JWSHeader.Builder(JWSAlgorithm.RS256)
                                        .keyID("b")
                                        .build(),
                                validClaims().build(),
                                new RSASSASigner(b)))
                        .audience());
        String unknownKid = sign(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("c").build(),
                validClaims().build(),
                new RSASSASigner(b));
        assertEquals(
                "no key matches the token's kid",
                assertThrows(CourierException.class, () -> verifier.verify(unknownKid))
                        .getMessage());
    }

    private static String encrypted() throws Exception {
        EncryptedJWT jwe = new EncryptedJWT(
                new JWEHeader(JWEAlgorithm.DIR, EncryptionMethod.A256GCM),
                validClaims().build());
        jwe.encrypt(new DirectEncrypter(new byte[32]));
        return jwe.serialize();
    }

    // Self-signed P-256 test certificate and its key (openssl req -x509 -newkey ec), test use only.
    private static final String EC_CERTIFICATE = """
            -----BEGIN CERTIFICATE-----
            MIIBhTCCASugAwIBAgIUNwzkKmI3Wm1JiujzFFV7UJCFbKgwCgYIKoZIzj0EAwIw
            FzEVMBMGA1UEAwwMY291cmllci10ZXN0MCAXDTI2MTEyNzE1MjExOFoYDzIxMjYx
            MTAzMTUyMTE4WjAXMRUwEwYDVQQDDAxjb3VyaWVyLXRlc3QwWTATBgcqhkjOPQIB
            BggqhkjOPQMBBwNCAAQLzOL0zUoFQTBd2u9pwzpwWfniH7cKOFXq1WEeMU8HVcgU
            8ivWQf1lG1RSfgYb3UFjnwlV2jg4kH1r8qikblRWo1MwUTAdBgNVHQ4EFgQUX9jC
            /Vdn1NeQ1o/qDfLvgKLBYx8wHwYDVR0jBBgwFoAUX9jC/Vdn1NeQ1o/qDfLvgKLB
            Yx8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA9Isvco3MkPPF
            XqOdRkwKzYaqLKKG2Bsh2acoHbUS7+kCIHpfn5F9XukzWyLEQtbdDKkRzVFGjUeN
            zJ+gGb0S1P5b
            -----END CERTIFICATE-----
            """;
    private static final String EC_PRIVATE_KEY_PKCS8 = """
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3sTw9Fa1UlH96Jz1
            BO1IkCkvl4dn2tcBqTNAnsc3zGahRANCAAQLzOL0zUoFQTBd2u9pwzpwWfniH7cK
            OFXq1WEeMU8HVcgU8ivWQf1lG1RSfgYb3UFjnwlV2jg4kH1r8qikblRW
            """;

    @Test
    void previousSecretVerifiesWhileOnlyTheCurrentOneSigns() {
        String previous = "previous-secret-rolled-out-node-by-node-0123456789";
        var config = new Config.JwtConfig(
                Optional.of(SECRET),
                Optional.of(previous),
                Optional.empty(),
                Optional.empty(),
                "",
                Optional.empty(),
                TestTokens.SKEW);
        JwtKeys keys = JwtKeys.load(config, Path.of("unused"));
        TokenVerifier verifier = new TokenVerifier(keys, config, CLOCK);

        assertEquals(
                "authenticated", verifier.verify(hs256(validClaims().build())).audience());
        assertEquals(
                "authenticated",
                verifier.verify(hmac(JWSAlgorithm.HS256, previous, validClaims().build()))
                        .audience(),
                "a token signed with the previous secret");
        CourierException unrelated = assertThrows(
                CourierException.class,
                () -> verifier.verify(hmac(
                        JWSAlgorithm.HS256,
                        "unrelated-secret-nobody-configured-0123456789",
                        validClaims().build())));
        assertEquals("bad signature", unrelated.getMessage());
        assertTrue(keys.describe().contains("courier.jwt.secret.previous"), keys.describe());
        assertFalse(keys.describe().contains(previous), keys.describe());

        String issued = new TokenIssuer(keys, CLOCK).issue("authenticated", Optional.empty(), Duration.ofMinutes(5));
        var currentOnly = TestTokens.secretConfig(SECRET, "", Optional.empty());
        assertEquals(
                "authenticated",
                new TokenVerifier(JwtKeys.load(currentOnly, Path.of("unused")), currentOnly, CLOCK)
                        .verify(issued)
                        .audience(),
                "tokens are issued with the current secret");
    }
}
