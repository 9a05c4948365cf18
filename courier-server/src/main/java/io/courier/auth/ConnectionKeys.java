package io.courier.auth;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectDecrypter;
import com.nimbusds.jose.crypto.DirectEncrypter;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import io.courier.config.Config;
import io.courier.config.ConfigException;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.text.Names;
import io.courier.text.StrictUtf8;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The short-lived keys {@code GET /v1/sign} hands out so a browser can open {@code /ws?token=KEY}
 * without putting its bearer JWT in a URL, where proxies and access logs would keep it.
 *
 * <p>A key is a compact JWE (dir + A256GCM) over aud, sub, iat, exp and the bearer token's own expiry
 * ({@value #BEARER_EXP}, so the socket it opens can end with the token), under a 256-bit key generated
 * once into the data directory, or derived from {@code courier.key.secret} (shared by every node of a
 * cluster, with {@code courier.key.secret.previous} also accepted while a new secret rolls out): encrypted, so the audience and subject are not readable from a logged
 * URL; authenticated, so it cannot be forged or altered; stateless, so any server sharing the data
 * directory accepts it, also after a restart. It stays valid, and reusable, until it expires; there is
 * no revocation. Any thread after {@link #load}.
 */
public final class ConnectionKeys {
    static final String KEY_FILE = "connection-key";
    private static final String SECRET_KEY = "courier.key.secret";
    private static final byte[] KDF_LABEL = "courier connection key A256GCM".getBytes(StandardCharsets.US_ASCII);
    /** Private claim: the bearer token's exp, in seconds since the epoch like exp itself. */
    static final String BEARER_EXP = "bearer_exp";

    private static final JWEHeader HEADER = new JWEHeader(JWEAlgorithm.DIR, EncryptionMethod.A256GCM);

    private final DirectEncrypter encrypter;
    /** The signing key's first, then the previous one's, if any. */
    private final List<DirectDecrypter> decrypters;

    private final Duration ttl;
    private final Clock clock;
    private final DefaultJWTClaimsVerifier<SecurityContext> claimsVerifier;

    private ConnectionKeys(SecretKey key, Optional<SecretKey> previous, Duration ttl, Clock clock)
            throws JOSEException {
        this.encrypter = new DirectEncrypter(key);
        List<DirectDecrypter> decrypters = new ArrayList<>();
        decrypters.add(new DirectDecrypter(key));
        if (previous.isPresent()) {
            decrypters.add(new DirectDecrypter(previous.get()));
        }
        this.decrypters = List.copyOf(decrypters);
        this.ttl = ttl;
        this.clock = clock;
        // No clock skew: the issuing server's clock set exp, and servers sharing a data dir share a clock source.
        this.claimsVerifier = new DefaultJWTClaimsVerifier<>(null, null, Set.of("aud", "exp"), null) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        };
        claimsVerifier.setMaxClockSkew(0);
    }

    /** Reads the key in dataDir/connection-key, generating it (owner-only) on first start. */
    public static ConnectionKeys load(Path dataDir, Duration ttl) {
        return load(dataDir, ttl, Clock.systemUTC());
    }

    /**
     * With {@code courier.key.secret} set, keys are made with a key derived from it, and also opened
     * with one derived from {@code courier.key.secret.previous}; the data directory is not touched.
     * Otherwise as {@link #load(Path, Duration)}.
     */
    public static ConnectionKeys load(Config.KeyConfig secrets, Path dataDir, Duration ttl) {
        return load(secrets, dataDir, ttl, Clock.systemUTC());
    }

    static ConnectionKeys load(Config.KeyConfig secrets, Path dataDir, Duration ttl, Clock clock) {
        if (secrets.secret().isEmpty()) {
            return load(dataDir, ttl, clock);
        }
        try {
            return new ConnectionKeys(
                    derive(secrets.secret().get()), secrets.previous().map(ConnectionKeys::derive), ttl, clock);
        } catch (JOSEException e) {
            throw new ConfigException(SECRET_KEY, "unusable for A256GCM (" + e.getMessage() + ")");
        }
    }

    /**
     * The 256-bit A256GCM key of a configured secret: HMAC-SHA256 keyed with the secret's UTF-8 bytes over
     * a fixed label (the extract step of RFC 5869's HKDF), so a secret of any length of at least 32 bytes
     * makes a uniformly distributed key, and the same text used as a JWT secret elsewhere gives an
     * unrelated key here.
     */
    static SecretKey derive(String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(StrictUtf8.encode(secret), "HmacSHA256"));
            return new SecretKeySpec(mac.doFinal(KDF_LABEL), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static ConnectionKeys load(Path dataDir, Duration ttl, Clock clock) {
        Path file = dataDir.resolve(KEY_FILE).toAbsolutePath();
        byte[] bytes = new Base64URL(SecretFile.readOrCreate(file).text()).decode();
        if (bytes.length != 32) {
            throw new ConfigException(
                    "courier.data.dir",
                    file + " holds a " + bytes.length * 8
                            + "-bit key (expected: 256 bits); delete it to generate a new one");
        }
        try {
            return new ConnectionKeys(new SecretKeySpec(bytes, "AES"), Optional.empty(), ttl, clock);
        } catch (JOSEException e) {
            throw new ConfigException("courier.data.dir", file + " is unusable for A256GCM (" + e.getMessage() + ")");
        }
    }

    public Duration ttl() {
        return ttl;
    }

    /**
     * An opaque, URL-safe key for principal, valid for {@link #ttl()} from now.
     *
     * @throws IllegalArgumentException when the audience or subject is not a valid {@link Names name}
     *         (the verifiers refuse such tokens first, so this is a bug, not a client error)
     */
    public String sign(Principal principal) {
        requireName("audience", principal.audience());
        principal.subject().ifPresent(subject -> requireName("subject", subject));
        Instant now = clock.instant();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .audience(principal.audience())
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)));
        principal.subject().ifPresent(claims::subject);
        principal.expiresAt().ifPresent(expiresAt -> claims.claim(BEARER_EXP, expiresAt.getEpochSecond()));
        // Nimbus encodes a claims set with String.getBytes(UTF_8), which turns a lone surrogate into '?';
        // "tenant\ud800" then came back from verify() as "tenant?", someone else's audience (issue 10).
        JWEObject jwe = new JWEObject(
                HEADER, new Payload(StrictUtf8.encode(claims.build().toString())));
        try {
            jwe.encrypt(encrypter);
        } catch (JOSEException e) {
            throw new IllegalStateException("A256GCM encryption failed", e);
        }
        return jwe.serialize();
    }

    /** @throws CourierException ETOKEN_INVALID: "connection key missing", "... expired" or "... invalid" */
    public Principal verify(String key) {
        if (key == null || key.isEmpty()) {
            throw refused("missing_key", "connection key missing");
        }
        JWTClaimsSet claims;
        Long bearerExp;
        try {
            EncryptedJWT jwe = parse(key);
            // Pin the algorithms: only what sign() produces is accepted.
            if (!JWEAlgorithm.DIR.equals(jwe.getHeader().getAlgorithm())
                    || !EncryptionMethod.A256GCM.equals(jwe.getHeader().getEncryptionMethod())) {
                throw refused("bad_key", "connection key invalid");
            }
            decrypt(jwe);
            claims = JWTClaimsSet.parse(StrictUtf8.decode(jwe.getPayload().toBytes()));
            claimsVerifier.verify(claims, null);
            bearerExp = claims.getLongClaim(BEARER_EXP);
        } catch (ExpiredJWTException e) {
            throw refused("expired_key", "connection key expired");
        } catch (ParseException | JOSEException | BadJWTException | IllegalArgumentException e) {
            throw refused("bad_key", "connection key invalid");
        }
        List<String> audience = claims.getAudience();
        String subject = claims.getSubject();
        // Only sign() makes keys, and it refuses bad names; a key from before that rule may still hold one.
        if (audience.size() != 1 || !Names.isValid(audience.get(0)) || (subject != null && !Names.isValid(subject))) {
            throw refused("bad_key", "connection key invalid");
        }
        return new Principal(
                audience.get(0),
                Optional.ofNullable(subject),
                Optional.ofNullable(bearerExp).map(Instant::ofEpochSecond));
    }

    /**
     * Opens jwe with the signing key, else with the previous one. A256GCM authenticates: a wrong key
     * fails its tag check rather than yielding other plaintext, so trying both is safe, and it costs a
     * second attempt only for keys made with the previous secret, or forged ones.
     */
    private void decrypt(EncryptedJWT jwe) throws JOSEException {
        JOSEException last = null;
        for (DirectDecrypter decrypter : decrypters) {
            try {
                jwe.decrypt(decrypter);
                return;
            } catch (JOSEException e) {
                last = e;
            }
        }
        throw last;
    }

    /**
     * Nimbus's JWE header parser throws NullPointerException or IllegalArgumentException, not
     * ParseException, on some hostile headers: JSON {@code null}, no or a null {@code enc},
     * {@code "epk": null}, {@code "authTag": null}. Uncaught, the upgrade got no answer at all
     * (found by HandshakeFloodIT). Any such key is malformed.
     */
    private static EncryptedJWT parse(String key) throws ParseException {
        try {
            return EncryptedJWT.parse(key);
        } catch (RuntimeException e) {
            throw new ParseException("unparseable JWE: " + e.getClass().getSimpleName(), 0);
        }
    }

    private static void requireName(String what, String name) {
        String problem = Names.problem(name);
        if (problem != null) {
            throw new IllegalArgumentException(what + ": " + problem);
        }
    }

    private static CourierException refused(String reason, String message) {
        return new CourierException(ErrorCode.ETOKEN_INVALID, reason, message);
    }
}
