package io.courier.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.AsymmetricJWK;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.proc.SingleKeyJWSKeySelector;
import io.courier.config.Config;
import io.courier.config.ConfigException;
import io.courier.text.Names;
import io.courier.text.StrictUtf8;
import java.net.URI;
import java.nio.file.Path;
import java.security.Key;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification (and, for HMAC, signing) key material for bearer JWTs, chosen once at startup from
 * {@code courier.jwt.*}: a JWKS URL, else a public key file, else a configured secret, else a secret
 * generated once into the data directory. Thread-safe after {@link #load}.
 *
 * <p>A single key is selected whatever {@code kid} a token carries: gotrue and most identity providers
 * stamp a {@code kid} that a PEM key or a plain secret has no way to match. Only a JWK set with several
 * keys, or one fetched from {@code courier.jwt.jwks.url} ({@link JwksCache}), picks by {@code kid}, which
 * is what lets an issuer rotate keys.
 *
 * <p>With a JWKS URL the keys change at run time, fetched on a background thread that {@link #close}
 * stops; every other kind of key is fixed at startup, and {@link #close} does nothing.
 */
public final class JwtKeys implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JwtKeys.class);
    static final String SECRET_FILE = "jwt-secret";

    private final JWSAlgorithm algorithm;
    private final JWSKeySelector<SecurityContext> keySelector;
    private final JWSSigner signer;
    private final String description;
    private final JwksCache remote;

    private JwtKeys(
            JWSAlgorithm algorithm, JWSKeySelector<SecurityContext> keySelector, JWSSigner signer, String description) {
        this(algorithm, keySelector, signer, description, null);
    }

    private JwtKeys(
            JWSAlgorithm algorithm,
            JWSKeySelector<SecurityContext> keySelector,
            JWSSigner signer,
            String description,
            JwksCache remote) {
        this.algorithm = algorithm;
        this.keySelector = keySelector;
        this.signer = signer;
        this.description = description;
        this.remote = remote;
    }

    /**
     * Reads or generates the key material. With a JWKS URL, starts fetching it in the background
     * instead: this call does no network I/O and succeeds while the URL is down.
     */
    public static JwtKeys load(Config.JwtConfig config, Path dataDir) {
        return load(config, dataDir, JwksCache.Timing.DEFAULT);
    }

    static JwtKeys load(Config.JwtConfig config, Path dataDir, JwksCache.Timing jwksTiming) {
        if (config.jwksUrl().isPresent()) {
            return fromJwksUrl(config.jwksUrl().get(), config.algorithm(), jwksTiming);
        }
        if (config.keyFile().isPresent()) {
            return fromKeyFile(config.keyFile().get(), config.algorithm());
        }
        if (config.secret().isPresent()) {
            JwtKeys current = fromSecret(
                    config.secret().get(), config.algorithm(), "courier.jwt.secret", "from courier.jwt.secret");
            if (config.previousSecret().isEmpty()) {
                return current;
            }
            JwtKeys previous = fromSecret(
                    config.previousSecret().get(),
                    config.algorithm(),
                    "courier.jwt.secret.previous",
                    "from courier.jwt.secret.previous");
            return current.alsoAccepting(previous);
        }
        if (!config.algorithm().isEmpty() && !JWSAlgorithm.HS256.getName().equals(config.algorithm())) {
            throw new ConfigException(
                    "courier.jwt.secret",
                    "must be set for " + config.algorithm() + " (the generated secret is HS256 only)");
        }
        Path file = dataDir.resolve(SECRET_FILE).toAbsolutePath();
        SecretFile.Contents contents = SecretFile.readOrCreate(file);
        if (contents.created()) {
            log.info("generated a new JWT secret in {}", file);
        }
        return fromSecret(contents.text(), "", "courier.data.dir", "generated in " + file);
    }

    public JWSAlgorithm algorithm() {
        return algorithm;
    }

    /** Where the keys came from, for the startup log; never contains secret material. */
    public String describe() {
        return description;
    }

    /** Stops fetching a JWKS URL; a no-op for every other kind of key. */
    @Override
    public void close() {
        if (remote != null) {
            remote.close();
        }
    }

    /** True for HMAC secrets, which both sign and verify; public keys only verify. */
    public boolean canSign() {
        return signer != null;
    }

    JWSKeySelector<SecurityContext> keySelector() {
        return keySelector;
    }

    Optional<JWSSigner> signer() {
        return Optional.ofNullable(signer);
    }

    /**
     * These keys, also verifying what {@code previous} verifies (a secret being rotated out); only
     * these sign. Nimbus's processor tries each key the selector returns until one verifies, so a
     * token signed with the new secret costs one HMAC and one signed with the old costs two.
     */
    private JwtKeys alsoAccepting(JwtKeys previous) {
        JWSKeySelector<SecurityContext> current = keySelector;
        JWSKeySelector<SecurityContext> both = (header, context) -> {
            List<Key> keys = new ArrayList<>(current.selectJWSKeys(header, context));
            keys.addAll(previous.keySelector.selectJWSKeys(header, context));
            return keys;
        };
        return new JwtKeys(
                algorithm,
                both,
                signer,
                description + ", also accepting the secret "
                        + previous.description.substring(previous.description.indexOf(" from ") + 1));
    }

    private static JwtKeys fromSecret(String secret, String configuredAlgorithm, String configKey, String origin) {
        JWSAlgorithm algorithm =
                configuredAlgorithm.isEmpty() ? JWSAlgorithm.HS256 : JWSAlgorithm.parse(configuredAlgorithm);
        if (!JWSAlgorithm.Family.HMAC_SHA.contains(algorithm)) {
            throw new ConfigException("courier.jwt.key.file", algorithm + " needs a public key file, not a secret");
        }
        // gotrue signs with the secret's raw UTF-8 bytes, not a base64 decoding of it. Strictly encoded:
        // with replacement, secrets differing only in a lone surrogate would be one key.
        byte[] bytes;
        try {
            bytes = StrictUtf8.encode(secret);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(configKey, "not encodable as UTF-8 (" + Names.problem(secret) + ")");
        }
        try {
            // RFC 7518 section 3.2: the key must be at least as long as the hash output.
            int minBytes = MACSigner.getMinRequiredSecretLength(algorithm) / 8;
            if (bytes.length < minBytes) {
                throw new ConfigException(
                        configKey, "too short for " + algorithm + " (expected: at least " + minBytes + " bytes)");
            }
            SecretKeySpec key =
                    new SecretKeySpec(bytes, "HmacSHA" + algorithm.getName().substring(2));
            return new JwtKeys(
                    algorithm,
                    new SingleKeyJWSKeySelector<>(algorithm, key),
                    new MACSigner(key),
                    algorithm + " secret " + origin);
        } catch (JOSEException e) {
            throw new ConfigException(configKey, "unusable for " + algorithm + " (" + e.getMessage() + ")");
        }
    }

    private static JwtKeys fromKeyFile(Path file, String configuredAlgorithm) {
        List<JWK> keys = PublicKeyFile.read(file);
        KeyType type = keys.get(0).getKeyType();
        if (keys.stream().anyMatch(k -> !type.equals(k.getKeyType()))) {
            throw new ConfigException(
                    PublicKeyFile.KEY, file.toAbsolutePath() + " mixes RSA and EC keys (expected: one key type)");
        }
        JWSAlgorithm algorithm = !configuredAlgorithm.isEmpty()
                ? JWSAlgorithm.parse(configuredAlgorithm)
                : KeyType.RSA.equals(type) ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
        keys.forEach(key -> checkFits(key, algorithm, file));
        String origin = " from " + file.toAbsolutePath();
        if (keys.size() > 1) {
            return new JwtKeys(
                    algorithm,
                    new JWSVerificationKeySelector<>(algorithm, new ImmutableJWKSet<>(new JWKSet(keys))),
                    null,
                    algorithm + " public keys (" + keys.size() + ")" + origin);
        }
        try {
            return new JwtKeys(
                    algorithm,
                    new SingleKeyJWSKeySelector<>(algorithm, ((AsymmetricJWK) keys.get(0)).toPublicKey()),
                    null,
                    algorithm + " public key" + origin);
        } catch (JOSEException e) {
            throw new ConfigException(
                    PublicKeyFile.KEY, file.toAbsolutePath() + " holds an unusable key (" + e.getMessage() + ")");
        }
    }

    private static JwtKeys fromJwksUrl(URI url, String configuredAlgorithm, JwksCache.Timing timing) {
        JWSAlgorithm algorithm =
                configuredAlgorithm.isEmpty() ? JWSAlgorithm.RS256 : JWSAlgorithm.parse(configuredAlgorithm);
        // A JWK set is public: an HMAC "key" in it would let anyone sign.
        if (!JWSAlgorithm.Family.RSA.contains(algorithm) && !JWSAlgorithm.Family.EC.contains(algorithm)) {
            throw new ConfigException(
                    "courier.jwt.algorithm",
                    algorithm + " cannot be used with " + JwksCache.KEY + " (expected: RS256 or ES256)");
        }
        JwksCache cache = JwksCache.start(url, algorithm, timing);
        return new JwtKeys(
                algorithm,
                new JWSVerificationKeySelector<>(algorithm, cache),
                null,
                algorithm + " public keys from JWKS " + url,
                cache);
    }

    private static void checkFits(JWK key, JWSAlgorithm algorithm, Path file) {
        unfit(key, algorithm).ifPresent(problem -> {
            throw new ConfigException(PublicKeyFile.KEY, file.toAbsolutePath() + " holds " + problem);
        });
    }

    /** Why key cannot verify algorithm's signatures, as "a(n) ... (expected: ...)"; empty when it can. */
    static Optional<String> unfit(JWK key, JWSAlgorithm algorithm) {
        KeyType expected = JWSAlgorithm.Family.RSA.contains(algorithm) ? KeyType.RSA : KeyType.EC;
        if (!expected.equals(key.getKeyType())) {
            return Optional.of("an " + key.getKeyType() + " key, but the algorithm is " + algorithm + " (expected: an "
                    + expected + " key)");
        }
        if (key.getAlgorithm() != null
                && !algorithm.getName().equals(key.getAlgorithm().getName())) {
            return Optional.of("a key for " + key.getAlgorithm() + " (expected: " + algorithm + ")");
        }
        if (key.getKeyUse() != null && !KeyUse.SIGNATURE.equals(key.getKeyUse())) {
            return Optional.of("a key for use=" + key.getKeyUse() + " (expected: sig)");
        }
        // RFC 7518 section 3.3: RSA keys of 2048 bits or larger MUST be used with RS256.
        if (key instanceof RSAKey rsa && rsa.size() < 2048) {
            return Optional.of("a " + rsa.size() + "-bit RSA key (expected: at least 2048 bits)");
        }
        if (key instanceof ECKey ec && !Curve.P_256.equals(ec.getCurve())) {
            return Optional.of("a " + ec.getCurve() + " key (expected: P-256 for ES256)");
        }
        return Optional.empty();
    }
}
