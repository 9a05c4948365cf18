package io.courier.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.courier.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;

/** Builders shared by the auth tests: configs, claims, signed tokens and PEM files. */
final class TestTokens {
    /** Whole seconds, because JWT dates are. */
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    /** Not nimbus's 60-second default, so a verifier that ignored the configured skew would fail the skew tests. */
    static final Duration SKEW = Duration.ofSeconds(30);
    /** A gotrue-style secret: used as raw UTF-8 bytes, never base64-decoded. */
    static final String SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

    private TestTokens() {}

    static Config.JwtConfig secretConfig(String secret, String algorithm, Optional<String> issuer) {
        return new Config.JwtConfig(Optional.of(secret), Optional.empty(), algorithm, issuer, SKEW);
    }

    static Config.JwtConfig keyFileConfig(Path file, String algorithm) {
        return new Config.JwtConfig(Optional.empty(), Optional.of(file), algorithm, Optional.empty(), SKEW);
    }

    static Config.JwtConfig jwksConfig(URI url, String algorithm) {
        return new Config.JwtConfig(
                Optional.empty(), Optional.empty(), Optional.of(url), algorithm, Optional.empty(), SKEW);
    }

    static Config.JwtConfig generatedConfig() {
        return new Config.JwtConfig(Optional.empty(), Optional.empty(), "", Optional.empty(), SKEW);
    }

    /** A claims set that passes every rule: aud, sub, iat, exp an hour ahead. */
    static JWTClaimsSet.Builder validClaims() {
        return new JWTClaimsSet.Builder()
                .audience("authenticated")
                .subject("5f2b8c1e-user")
                .issueTime(Date.from(NOW))
                .expirationTime(Date.from(NOW.plusSeconds(3600)));
    }

    static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    static String hmac(JWSAlgorithm algorithm, String secret, JWTClaimsSet claims) {
        try {
            return sign(new JWSHeader(algorithm), claims, new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hs256(JWTClaimsSet claims) {
        return hmac(JWSAlgorithm.HS256, SECRET, claims);
    }

    /**
     * An HS256 token whose payload is exactly {@code json}, signed with {@link #SECRET}: for names that
     * nimbus's own serialiser would mangle, such as a lone surrogate written as a JSON escape.
     */
    static String hs256Json(String json) {
        JWSObject jws = new JWSObject(new JWSHeader(JWSAlgorithm.HS256), new Payload(json));
        try {
            jws.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jws.serialize();
    }

    /** A valid HS256 token signed with secret. */
    static String hs256Token(String secret) {
        return hmac(JWSAlgorithm.HS256, secret, validClaims().build());
    }

    static Path writePem(Path file, PublicKey key) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(key.getEncoded());
        return write(file, "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n");
    }

    static Path write(Path file, String text) {
        try {
            return Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
