package io.courier.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.courier.config.ConfigException;
import io.courier.text.Names;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;

/**
 * Mints bearer JWTs for the {@code token} CLI command and for tests, with the same HMAC secret the
 * server verifies with. Any thread.
 */
public final class TokenIssuer {
    private final JWSAlgorithm algorithm;
    private final JWSSigner signer;
    private final Clock clock;

    /** @throws ConfigException when the keys are a public key, which can only verify */
    public TokenIssuer(JwtKeys keys) {
        this(keys, Clock.systemUTC());
    }

    TokenIssuer(JwtKeys keys, Clock clock) {
        this.algorithm = keys.algorithm();
        this.signer = keys.signer()
                .orElseThrow(() -> new ConfigException(
                        PublicKeyFile.KEY,
                        "cannot issue tokens with a public key (" + keys.describe()
                                + "); tokens come from the holder of the private key"));
        this.clock = clock;
    }

    /** A token with iat, exp = now + ttl, aud as a single string (as gotrue writes it), and sub when present. */
    public String issue(String audience, Optional<String> subject, Duration ttl) {
        if (audience == null || audience.isEmpty()) {
            throw new IllegalArgumentException("audience: '" + audience + "' (expected: non-empty)");
        }
        // Nimbus encodes the claims with replacement: refuse what would not survive it, as the verifier would.
        if (!Names.isValid(audience)) {
            throw new IllegalArgumentException("audience: " + Names.problem(audience));
        }
        if (subject.isPresent() && !Names.isValid(subject.get())) {
            throw new IllegalArgumentException("subject: " + Names.problem(subject.get()));
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
        }
        Instant now = clock.instant();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .audience(audience)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)));
        subject.ifPresent(claims::subject);
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(algorithm).type(JOSEObjectType.JWT).build(), claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing with " + algorithm + " failed", e);
        }
        return jwt.serialize();
    }
}
