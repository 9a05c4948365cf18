package io.courier.bench.jmh;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.courier.auth.ConnectionKeys;
import io.courier.auth.JwtKeys;
import io.courier.auth.Principal;
import io.courier.auth.TokenIssuer;
import io.courier.auth.TokenVerifier;
import io.courier.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Date;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What authentication costs per handshake: the bearer JWT that {@code GET /v1/sign} and the REST API
 * verify ({@link TokenVerifier#verify}, per algorithm, keys loaded by {@link JwtKeys} as at startup),
 * and the signed connection key that {@code /ws?token=} presents ({@link ConnectionKeys#verify}) and
 * {@code /v1/sign} mints ({@link ConnectionKeys#sign}). Both run on the event loop in the server.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 2,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC"})
public class AuthBenchmark {

    /** A bearer token and the verifier for its algorithm, from a secret or a public key file. */
    @State(Scope.Benchmark)
    public static class Jwt {
        @Param({"HS256", "RS256", "ES256"})
        String algorithm;

        TokenVerifier verifier;
        String token;
        private Path dir;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            dir = Files.createTempDirectory("courier-jmh-auth");
            Config.JwtConfig config;
            switch (algorithm) {
                case "HS256" -> {
                    config = new Config.JwtConfig(
                            Optional.of("benchmark-secret-of-at-least-32-bytes!"),
                            Optional.empty(),
                            "HS256",
                            Optional.empty(),
                            Duration.ofSeconds(30));
                    token = new TokenIssuer(JwtKeys.load(config, dir))
                            .issue(HubFixture.AUDIENCE, Optional.of("user-1"), Duration.ofHours(2));
                }
                case "RS256" -> {
                    RSAKey key = new RSAKeyGenerator(2048).generate();
                    config = keyFileConfig(key.toPublicJWK(), "RS256");
                    token = sign(new RSASSASigner(key), JWSAlgorithm.RS256);
                }
                case "ES256" -> {
                    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
                    config = keyFileConfig(key.toPublicJWK(), "ES256");
                    token = sign(new ECDSASigner(key), JWSAlgorithm.ES256);
                }
                default ->
                    throw new IllegalArgumentException("algorithm: " + algorithm + " (expected: HS256, RS256, ES256)");
            }
            verifier = new TokenVerifier(JwtKeys.load(config, dir), config);
            verifier.verify(token); // refuses a bad setup before any measurement
        }

        private Config.JwtConfig keyFileConfig(JWK publicKey, String alg) throws IOException {
            Path file = Files.writeString(dir.resolve("jwt-public.jwk"), publicKey.toJSONString());
            return new Config.JwtConfig(
                    Optional.empty(), Optional.of(file), alg, Optional.empty(), Duration.ofSeconds(30));
        }

        /** What an identity provider hands out: typ JWT, aud, sub, iat, exp. */
        private static String sign(JWSSigner signer, JWSAlgorithm alg) throws Exception {
            Instant now = Instant.now();
            JWTClaimsSet claims = new JWTClaimsSet.Builder()
                    .audience(HubFixture.AUDIENCE)
                    .subject("user-1")
                    .issueTime(Date.from(now))
                    .expirationTime(Date.from(now.plus(Duration.ofHours(2))))
                    .build();
            SignedJWT jwt = new SignedJWT(
                    new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            deleteTree(dir);
        }
    }

    /** The server's connection-key codec with a key generated into a fresh data directory. */
    @State(Scope.Benchmark)
    public static class Keys {
        ConnectionKeys keys;
        Principal principal;
        String key;
        private Path dir;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            dir = Files.createTempDirectory("courier-jmh-keys");
            keys = ConnectionKeys.load(dir, Duration.ofHours(2));
            principal = new Principal(
                    HubFixture.AUDIENCE,
                    Optional.of("user-1"),
                    Optional.of(Instant.now().plus(Duration.ofHours(2))));
            key = keys.sign(principal);
            keys.verify(key);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            deleteTree(dir);
        }
    }

    @Benchmark
    public Principal verifyJwt(Jwt jwt) {
        return jwt.verifier.verify(jwt.token);
    }

    /** Per WebSocket upgrade with {@code ?token=}: decrypt (A256GCM), check claims. */
    @Benchmark
    public Principal verifyConnectionKey(Keys keys) {
        return keys.keys.verify(keys.key);
    }

    /** Per {@code GET /v1/sign}, after the bearer token was verified. */
    @Benchmark
    public String signConnectionKey(Keys keys) {
        return keys.keys.sign(keys.principal);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
