package io.courier.auth;

import static io.courier.auth.TestTokens.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import io.courier.config.ConfigException;
import io.courier.error.CourierException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenIssuerTest {
    @TempDir
    Path dir;

    @Test
    void issuedTokenVerifiesAndCarriesAudSubExp() throws Exception {
        JwtKeys keys = JwtKeys.load(TestTokens.generatedConfig(), dir);
        String token = new TokenIssuer(keys, Clock.fixed(NOW, ZoneOffset.UTC))
                .issue("acme", Optional.of("user-7"), Duration.ofMinutes(10));

        Principal principal = new TokenVerifier(keys, TestTokens.generatedConfig(), TestTokens.CLOCK).verify(token);
        assertEquals(new Principal("acme", Optional.of("user-7"), Optional.of(NOW.plusSeconds(600))), principal);

        SignedJWT jwt = SignedJWT.parse(token);
        Map<String, Object> payload = jwt.getPayload().toJSONObject();
        assertEquals("acme", payload.get("aud"), "aud as a single string, like gotrue");
        assertEquals("user-7", payload.get("sub"));
        assertEquals(NOW.getEpochSecond(), ((Number) payload.get("iat")).longValue());
        assertEquals(NOW.plusSeconds(600).getEpochSecond(), ((Number) payload.get("exp")).longValue());
        assertEquals(JWSAlgorithm.HS256, jwt.getHeader().getAlgorithm());
    }

    @Test
    void tokenWithoutSubjectHasNoSubClaim() throws Exception {
        JwtKeys keys = JwtKeys.load(TestTokens.generatedConfig(), dir);
        String token = new TokenIssuer(keys).issue("acme", Optional.empty(), Duration.ofMinutes(1));

        assertFalse(SignedJWT.parse(token).getPayload().toJSONObject().containsKey("sub"));
        assertEquals(
                Optional.empty(),
                new TokenVerifier(keys, TestTokens.generatedConfig())
                        .verify(token)
                        .subject());
    }

    @Test
    void issuedTokenExpiresAfterTtl() {
        JwtKeys keys = JwtKeys.load(TestTokens.generatedConfig(), dir);
        MutableClock clock = new MutableClock(NOW);
        String token = new TokenIssuer(keys, clock).issue("acme", Optional.empty(), Duration.ofMinutes(1));
        TokenVerifier verifier = new TokenVerifier(keys, TestTokens.generatedConfig(), clock);

        clock.advance(Duration.ofMinutes(1).plus(TestTokens.SKEW).plusSeconds(1));
        assertEquals(
                "token expired",
                assertThrows(CourierException.class, () -> verifier.verify(token))
                        .getMessage());
    }

    @Test
    void publicKeyCannotIssue() throws Exception {
        Path file = TestTokens.write(
                dir.resolve("ec.json"),
                new ECKeyGenerator(Curve.P_256).generate().toPublicJWK().toJSONString());
        JwtKeys keys = JwtKeys.load(TestTokens.keyFileConfig(file, ""), dir);

        ConfigException e = assertThrows(ConfigException.class, () -> new TokenIssuer(keys));
        assertTrue(
                e.getMessage().startsWith("courier.jwt.key.file: cannot issue tokens with a public key"),
                e.getMessage());
    }

    @Test
    void nonPositiveTtlIsRefused() {
        TokenIssuer issuer = new TokenIssuer(JwtKeys.load(TestTokens.generatedConfig(), dir));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> issuer.issue("acme", Optional.empty(), Duration.ZERO));
        assertEquals("ttl: PT0S (expected: > 0)", e.getMessage());
    }
}
