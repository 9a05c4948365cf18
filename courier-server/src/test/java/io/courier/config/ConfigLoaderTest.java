package io.courier.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link ConfigLoader}: defaults, the {@code --config} file, environment variables, and one-line refusals. */
class ConfigLoaderTest {
    @TempDir
    Path dir;

    private static Config load(Map<String, String> env) {
        return ConfigLoader.load(Optional.empty(), env, Map.of());
    }

    /** The problem message of loading {@code env}; asserts it names {@code key} first, as startup prints it. */
    private static String refusal(String key, Map<String, String> env) {
        return refusal(key, () -> load(env));
    }

    private static String refusal(String key, Executable load) {
        ConfigException e = assertThrows(ConfigException.class, load);
        assertTrue(e.getMessage().startsWith(key + ": "), "message should name " + key + ": " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(0, e.getStackTrace().length, "a configuration mistake carries no stack trace");
        return e.getMessage();
    }

    // ---------------------------------------------------------------- defaults and precedence

    @Test
    void defaultsMatchTheDocumentedFile() {
        Config config = load(Map.of());

        assertEquals("0.0.0.0", config.host());
        assertEquals(8883, config.port());
        assertEquals("ws://localhost:8883/ws", config.wsUrl());
        assertEquals(65536, config.maxBodyBytes());
        assertEquals(List.of(), config.corsOrigins(), "* means any origin");
        assertEquals("courier", config.database().namespace());
        assertTrue(config.database().embedded(), "no URL means embedded H2");
        assertTrue(
                config.database().jdbcUrl().startsWith("jdbc:h2:file:"),
                config.database().jdbcUrl());
        assertEquals(Duration.ofMillis(2000), config.database().timeout());
        assertEquals(Optional.empty(), config.jwt().secret());
        assertEquals(Optional.empty(), config.jwt().keyFile());
        assertEquals(Optional.empty(), config.jwt().jwksUrl());
        assertEquals("", config.jwt().algorithm());
        assertEquals(Optional.empty(), config.jwt().issuer());
        assertEquals(Duration.ofSeconds(60), config.jwt().clockSkew());
        assertEquals(
                Path.of(System.getProperty("user.home"), ".courier")
                        .toAbsolutePath()
                        .normalize(),
                config.dataDir());
    }

    @Test
    void hardeningLimitsDefaultToOffExceptTheTotalsWhichFollowTheProcess() {
        Config config = load(Map.of());

        assertEquals(Duration.ofSeconds(10), config.headerTimeout());
        assertEquals(
                PlatformDependent.maxDirectMemory() / 4,
                config.maxBufferedBytes(),
                "0 means a quarter of the direct memory request bodies are buffered in");
        var os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        assertEquals(
                os.getMaxFileDescriptorCount() - 200,
                config.limits().maxConnections(),
                "0 means the descriptor limit less a reserve for the pool, files and NATS");
        assertEquals(new Config.Limits(config.limits().maxConnections(), 0, 0, 0), config.limits());
    }

    @Test
    void explicitLimitsAreTakenAsGiven() {
        Config config = load(Map.of(
                "COURIER_HTTP_MAX_BUFFERED_BYTES",
                "4096",
                "COURIER_MAX_CONNECTIONS",
                "50",
                "COURIER_MAX_CONNECTIONS_PER_ADDRESS",
                "5",
                "COURIER_AUDIENCE_MAX_CONNECTIONS",
                "7",
                "COURIER_HOOK_RATE_LIMIT_PER_SECOND",
                "3",
                "COURIER_HTTP_HEADER_TIMEOUT_SECONDS",
                "2"));

        assertEquals(4096, config.maxBufferedBytes());
        assertEquals(new Config.Limits(50, 5, 7, 3), config.limits());
        assertEquals(Duration.ofSeconds(2), config.headerTimeout());
        refusal("courier.max.connections", Map.of("COURIER_MAX_CONNECTIONS", "-1"));
    }

    @Test
    void embeddedDatabaseLivesInTheDataDirectory() {
        Config config = load(Map.of("COURIER_DATA_DIR", dir.toString()));

        assertEquals(dir.toAbsolutePath().normalize(), config.dataDir());
        assertTrue(
                config.database()
                        .jdbcUrl()
                        .startsWith("jdbc:h2:file:" + dir.toAbsolutePath().normalize()),
                config.database().jdbcUrl());
    }

    @Test
    void environmentOverridesDefaults() {
        Config config = load(Map.of(
                "COURIER_PORT", "9000",
                "COURIER_WS_URL", "wss://courier.example.com/ws",
                "COURIER_DATABASE_NAMESPACE", "tenant_1",
                "COURIER_JWT_ISSUER", "https://issuer.test",
                "COURIER_CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example",
                "COURIER_IO_THREADS", "1"));

        assertEquals(9000, config.port());
        assertEquals("wss://courier.example.com/ws", config.wsUrl());
        assertEquals("tenant_1", config.database().namespace());
        assertEquals(Optional.of("https://issuer.test"), config.jwt().issuer());
        assertEquals(List.of("https://a.example", "https://b.example"), config.corsOrigins());
        assertEquals(1, config.ioThreads());
    }

    @Test
    void ioThreadsDefaultToOnePerCore() {
        assertEquals(Runtime.getRuntime().availableProcessors(), load(Map.of()).ioThreads());
        assertEquals(
                Runtime.getRuntime().availableProcessors(),
                load(Map.of("COURIER_IO_THREADS", "0")).ioThreads());
    }

    @Test
    void environmentVariablesThatAreNotCourierKeysAreIgnored() {
        Config config = load(Map.of("PORT", "1234", "courier.port", "1235", "COURIER_PORTS", "1236"));

        assertEquals(8883, config.port());
    }

    @Test
    void configFileOverridesDefaultsAndEnvironmentOverridesTheFile() throws IOException {
        Path file = write("courier.properties", """
                # a comment
                courier.port = 9100
                courier.database.namespace=from_file
                courier.jwt.issuer=https://file.test
                """);

        Config fromFile = ConfigLoader.load(Optional.of(file), Map.of(), Map.of());
        Config envWins = ConfigLoader.load(Optional.of(file), Map.of("COURIER_PORT", "9200"), Map.of());

        assertEquals(9100, fromFile.port(), "values in the file are trimmed");
        assertEquals("from_file", fromFile.database().namespace());
        assertEquals(Optional.of("https://file.test"), fromFile.jwt().issuer());
        assertEquals(9200, envWins.port());
        assertEquals(
                "from_file", envWins.database().namespace(), "keys the environment does not set keep the file's value");
    }

    @Test
    void overridesBeatTheEnvironment() {
        Config config =
                ConfigLoader.load(Optional.empty(), Map.of("COURIER_PORT", "9200"), Map.of("courier.port", "0"));

        assertEquals(0, config.port());
    }

    @Test
    void unknownKeyInTheFileIsRefusedByName() throws IOException {
        Path file = write("typo.properties", "courier.prot=9000\n");

        String message = refusal("courier.prot", () -> ConfigLoader.load(Optional.of(file), Map.of(), Map.of()));

        assertTrue(message.contains(file.toString()), message);
    }

    @Test
    void unknownOverrideKeyIsRefusedByName() {
        refusal("courier.nope", () -> ConfigLoader.load(Optional.empty(), Map.of(), Map.of("courier.nope", "1")));
    }

    @Test
    void missingConfigFileIsRefused() {
        Path missing = dir.resolve("missing.properties");

        String message = refusal("--config", () -> ConfigLoader.load(Optional.of(missing), Map.of(), Map.of()));

        assertTrue(message.contains(missing.toString()), message);
    }

    // ---------------------------------------------------------------- refusals

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "courier.port                     | 70000",
                "courier.port                     | -1",
                "courier.port                     | abc",
                "courier.port                     | ''",
                "courier.port                     | 8883.5",
                "courier.port                     | 99999999999999999999",
                "courier.http.max.body.bytes      | 0",
                "courier.workers                  | 0",
                "courier.io.threads               | -1",
                "courier.io.threads               | 1025",
                "courier.database.pool.size       | 0",
                "courier.database.timeout.ms      | 100",
                "courier.ws.max.frame.bytes       | 10",
                "courier.jwt.clock.skew.seconds   | -5",
                "courier.shutdown.timeout.seconds | soon",
                "courier.jwt.algorithm            | XYZ",
                "courier.jwt.algorithm            | none",
                "courier.jwt.secret               | short",
                "courier.ws.url                   | http://localhost:8883/ws",
                "courier.ws.url                   | ws://localhost:8883/ws?token=x",
                "courier.ws.url                   | not a url",
                "courier.database.url             | mysql://x",
                "courier.database.url             | jdbc:mysql://localhost/db",
                "courier.database.url             | postgres:///nohost",
                "courier.database.url             | postgres://localhost",
                "courier.database.namespace       | drop table",
                "courier.database.namespace       | 1abc",
                "courier.api.envelope             | DATA",
                "courier.api.envelope             | json",
                "courier.console.enabled          | yes",
                "courier.history.size             | -1",
                "courier.history.size             | 1001",
                "courier.history.ttl.seconds      | 0",
                "courier.history.ttl.seconds      | 86401",
                "courier.history.recovery.limit   | 0",
                "courier.history.max.memory.bytes | 10",
                "courier.ws.outbound.max.bytes    | -1",
                "courier.ws.outbound.max.bytes    | 1",
                "courier.ws.outbound.max.bytes    | 262143",
                "courier.ws.outbound.max.bytes    | 9223372036854775807",
                "courier.ws.outbound.max.bytes    | 1GiB",
            })
    void badValueIsRefusedNamingTheKey(String key, String value) {
        String message = refusal(key, Map.of(ConfigLoader.envName(key), value));

        assertTrue(message.length() > key.length() + 2, "the message explains the problem: " + message);
    }

    @Test
    void outboundBudgetDefaultsToHalfTheDirectMemoryAndIsTakenAsGivenWithinIt() {
        assertEquals(
                PlatformDependent.maxDirectMemory() / 2,
                load(Map.of()).outboundMaxBytes(),
                "0 means half the direct memory the outbound buffers are allocated in");
        assertEquals(
                262144, load(Map.of("COURIER_WS_OUTBOUND_MAX_BYTES", "262144")).outboundMaxBytes());
        String over = String.valueOf(PlatformDependent.maxDirectMemory() + 1);
        String message = refusal("courier.ws.outbound.max.bytes", Map.of("COURIER_WS_OUTBOUND_MAX_BYTES", over));
        assertTrue(message.contains(over) && message.contains("direct memory"), message);
    }

    @Test
    void apiEnvelopeAndConsoleDefaultToBareAnswersAndAConsole() {
        Config defaults = load(Map.of());
        assertFalse(defaults.envelopeData(), "bare objects by default, as the REST contract shows");
        assertTrue(defaults.consoleEnabled());

        Config original = load(Map.of("COURIER_API_ENVELOPE", "data", "COURIER_CONSOLE_ENABLED", "false"));
        assertTrue(original.envelopeData());
        assertFalse(original.consoleEnabled());
        assertTrue(refusal("courier.api.envelope", Map.of("COURIER_API_ENVELOPE", "wrapped"))
                .contains("none or data"));
    }

    @Test
    void historyDefaultsAreOffAndMustLieWithinTheMaxima() {
        Config.HistoryConfig history = load(Map.of()).history();
        assertEquals(HistorySettings.NONE, history.defaults(), "existing deployments keep no history");
        assertEquals(300, history.defaultTtlSeconds());
        assertEquals(1000, history.maxSize());
        assertEquals(300, history.recoveryLimit());
        assertEquals(
                new HistorySettings(50, 60),
                load(Map.of("COURIER_HISTORY_SIZE", "50", "COURIER_HISTORY_TTL_SECONDS", "60"))
                        .history()
                        .defaults());
        String message =
                refusal("courier.history.size", Map.of("COURIER_HISTORY_MAX_SIZE", "10", "COURIER_HISTORY_SIZE", "11"));
        assertTrue(message.contains("0-10"), message);
    }

    @Test
    void portOutOfRangeNamesTheRange() {
        String message = refusal("courier.port", Map.of("COURIER_PORT", "70000"));

        assertTrue(message.contains("70000") && message.contains("65535"), message);
    }

    @Test
    void unknownAlgorithmListsTheAcceptedOnes() {
        String message = refusal("courier.jwt.algorithm", Map.of("COURIER_JWT_ALGORITHM", "XYZ"));

        assertTrue(message.contains("XYZ") && message.contains("HS256") && message.contains("ES256"), message);
    }

    @Test
    void unreadableKeyFileIsRefused() throws IOException {
        refusal("courier.jwt.key.file", Map.of("COURIER_JWT_KEY_FILE", "/nonexistent/courier/key.pem"));
        refusal("courier.jwt.key.file", Map.of("COURIER_JWT_KEY_FILE", dir.toString())); // a directory
    }

    @Test
    void publicKeyAlgorithmWithoutKeyFileNamesTheKeyFile() {
        refusal("courier.jwt.key.file", Map.of("COURIER_JWT_ALGORITHM", "RS256"));
    }

    @Test
    void secretAlgorithmWithKeyFileIsRefused() throws IOException {
        Path key = write("key.pem", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");

        refusal(
                "courier.jwt.algorithm",
                Map.of("COURIER_JWT_KEY_FILE", key.toString(), "COURIER_JWT_ALGORITHM", "HS256"));
    }

    // ---------------------------------------------------------------- JWKS URL

    private static final String JWKS = "https://auth.example.com/.well-known/jwks.json";

    @Test
    void jwksUrlDefaultsTheAlgorithmToRs256() {
        Config config = load(Map.of("COURIER_JWT_JWKS_URL", JWKS));

        assertEquals(Optional.of(URI.create(JWKS)), config.jwt().jwksUrl());
        assertEquals("RS256", config.jwt().algorithm());
    }

    @Test
    void jwksUrlKeepsAConfiguredPublicKeyAlgorithm() {
        Config config =
                load(Map.of("COURIER_JWT_JWKS_URL", "http://127.0.0.1:9999/jwks", "COURIER_JWT_ALGORITHM", "es256"));

        assertEquals("ES256", config.jwt().algorithm());
    }

    @ParameterizedTest
    @CsvSource({"HS256", "HS384", "HS512"})
    void hmacAlgorithmWithJwksUrlIsRefused(String algorithm) {
        String message = refusal(
                "courier.jwt.algorithm", Map.of("COURIER_JWT_JWKS_URL", JWKS, "COURIER_JWT_ALGORITHM", algorithm));

        assertTrue(message.contains(algorithm) && message.contains("JWKS URL"), message);
    }

    @Test
    void jwksUrlWithSecretIsRefusedNamingBothKeys() {
        String message = refusal(
                "courier.jwt.jwks.url", Map.of("COURIER_JWT_JWKS_URL", JWKS, "COURIER_JWT_SECRET", "s".repeat(40)));

        assertTrue(message.contains("courier.jwt.secret"), message);
        assertFalse(message.contains("s".repeat(40)), "never echo the secret: " + message);
    }

    @Test
    void jwksUrlWithKeyFileIsRefusedNamingBothKeys() throws IOException {
        Path key = write("key.pem", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");

        String message = refusal(
                "courier.jwt.jwks.url", Map.of("COURIER_JWT_JWKS_URL", JWKS, "COURIER_JWT_KEY_FILE", key.toString()));

        assertTrue(message.contains("courier.jwt.key.file"), message);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "ftp://auth.example.com/jwks.json",
                "file:///etc/courier/jwks.json",
                "not a url",
                "/.well-known/jwks.json",
                "https://",
                "https://auth.example.com/jwks.json#keys",
            })
    void badJwksUrlIsRefused(String url) {
        String message = refusal("courier.jwt.jwks.url", Map.of("COURIER_JWT_JWKS_URL", url));

        assertTrue(message.contains("expected: an https:// or http:// URL"), message);
    }

    @Test
    void jwksUrlWithCredentialsIsRefusedWithoutEchoingThem() {
        String message = refusal(
                "courier.jwt.jwks.url",
                Map.of("COURIER_JWT_JWKS_URL", "https://admin:hunter2@auth.example.com/jwks.json"));

        assertFalse(message.contains("hunter2"), message);
    }

    @Test
    void algorithmIsCaseInsensitive() {
        Config config = load(Map.of("COURIER_JWT_ALGORITHM", "hs384", "COURIER_JWT_SECRET", "s".repeat(48)));

        assertEquals("HS384", config.jwt().algorithm());
    }

    @Test
    void databaseUrlErrorNeverEchoesThePassword() {
        String message = refusal(
                "courier.database.url", Map.of("COURIER_DATABASE_URL", "mysql://admin:hunter2@db.example/courier"));

        assertFalse(message.contains("hunter2"), message);
    }

    // ---------------------------------------------------------------- database URLs

    @Test
    void postgresUrlBecomesJdbcWithCredentials() {
        Config config = load(
                Map.of("COURIER_DATABASE_URL", "postgres://courier:s3cret@db.example:6543/courier?sslmode=disable"));

        assertEquals(
                "jdbc:postgresql://db.example:6543/courier?sslmode=disable",
                config.database().jdbcUrl());
        assertEquals("courier", config.database().user());
        assertEquals("s3cret", config.database().password());
        assertFalse(config.database().embedded());
    }

    @Test
    void explicitUserAndPasswordBeatTheUrl() {
        Config config = load(Map.of(
                "COURIER_DATABASE_URL", "postgres://courier:s3cret@db.example/courier",
                "COURIER_DATABASE_USER", "admin",
                "COURIER_DATABASE_PASSWORD", "other"));

        assertEquals(
                "jdbc:postgresql://db.example:5432/courier", config.database().jdbcUrl());
        assertEquals("admin", config.database().user());
        assertEquals("other", config.database().password());
    }

    @Test
    void jdbcUrlIsKeptAsIs() {
        Config config = load(Map.of("COURIER_DATABASE_URL", "jdbc:postgresql://db.example:5432/courier"));

        assertEquals(
                "jdbc:postgresql://db.example:5432/courier", config.database().jdbcUrl());
        assertFalse(config.database().embedded());
    }

    @Test
    void secretsThatCannotBeEncodedAsUtf8AreRefusedWithoutEchoingThem() {
        // With replacement, "...\ud800" and "...\udc00" would both have been the HMAC key "...?".
        String jwt = refusal(
                "courier.jwt.secret", Map.of("COURIER_JWT_SECRET", "jwt-secret-that-is-long-enough-0123456789\ud800"));
        assertTrue(jwt.contains("unpaired surrogate"), jwt);
        assertFalse(jwt.contains("jwt-secret"), jwt);
        String metrics = refusal("courier.metrics.token", Map.of("COURIER_METRICS_TOKEN", "metrics-\udc00token"));
        assertFalse(metrics.contains("metrics-"), metrics);
    }

    @Test
    void toStringNeverShowsSecrets() {
        Config config = load(Map.of(
                "COURIER_DATABASE_URL", "postgres://courier:db-password-1@db.example/courier",
                "COURIER_JWT_SECRET", "jwt-secret-that-is-long-enough-0123456789"));

        String text = config.toString();

        assertFalse(text.contains("db-password-1"), text);
        assertFalse(text.contains("jwt-secret-that-is-long-enough"), text);
    }

    // ---------------------------------------------------------------- cluster, shared secrets, drain

    private static final String PG = "postgres://courier:db-pw@db.example:5432/courier";
    private static final String KEY_SECRET = "key-secret-shared-by-every-node-0123456789";
    private static final String JWT_SECRET = "jwt-secret-shared-by-every-node-0123456789";

    /** A complete cluster node's environment, with {@code changes} on top (an empty value removes a key). */
    private static Map<String, String> clusterEnv(Map<String, String> changes) {
        Map<String, String> env = new HashMap<>(Map.of(
                "COURIER_CLUSTER_NATS_URL", "nats://127.0.0.1:4222",
                "COURIER_DATABASE_URL", PG,
                "COURIER_KEY_SECRET", KEY_SECRET,
                "COURIER_JWT_SECRET", JWT_SECRET));
        env.putAll(changes);
        return env;
    }

    @Test
    void singleNodeByDefaultWithTheDocumentedClusterDefaults() {
        Config config = load(Map.of());

        assertFalse(config.cluster().enabled());
        assertEquals(List.of(), config.cluster().natsUrls());
        assertEquals("", config.cluster().nodeId(), "no id is generated for a single node");
        assertEquals(Duration.ofSeconds(2), config.cluster().pingInterval());
        assertEquals(8_388_608L, config.cluster().reconnectBufferBytes());
        assertEquals(Duration.ofMillis(1000), config.cluster().unsubscribeLinger());
        assertEquals(Config.KeyConfig.GENERATED, config.keys());
        assertEquals(Optional.empty(), config.jwt().previousSecret());
        assertFalse(config.proxyProtocol());
        assertEquals(Duration.ZERO, config.shutdownDrainGrace());
        assertEquals(Duration.ZERO, config.shutdownCloseSpread());
    }

    @Test
    void clusterNodeWithSharedStateLoadsEveryUrlAndGeneratesANodeId() {
        Config config = load(clusterEnv(Map.of(
                "COURIER_CLUSTER_NATS_URL", "nats://10.0.0.1:4222, tls://nats.example:4443",
                "COURIER_KEY_SECRET_PREVIOUS", "key-secret-of-last-month-0123456789abcdef",
                "COURIER_JWT_SECRET_PREVIOUS", "jwt-secret-of-last-month-0123456789abcdef")));

        assertTrue(config.cluster().enabled());
        assertEquals(
                List.of(URI.create("nats://10.0.0.1:4222"), URI.create("tls://nats.example:4443")),
                config.cluster().natsUrls());
        assertTrue(
                config.cluster().nodeId().matches("[A-Za-z0-9_-]{1,64}"),
                config.cluster().nodeId());
        assertEquals(Optional.of(KEY_SECRET), config.keys().secret());
        assertEquals(
                Optional.of("key-secret-of-last-month-0123456789abcdef"),
                config.keys().previous());
        assertEquals(
                Optional.of("jwt-secret-of-last-month-0123456789abcdef"),
                config.jwt().previousSecret());
        assertEquals(
                "node-a",
                load(clusterEnv(Map.of("COURIER_CLUSTER_NODE_ID", "node-a")))
                        .cluster()
                        .nodeId());
    }

    @Test
    void clusterNodeRefusesTheEmbeddedDatabase() {
        Map<String, String> env = clusterEnv(Map.of());
        env.remove("COURIER_DATABASE_URL");
        String message = refusal("courier.database.url", env);
        assertTrue(message.contains("PostgreSQL shared by all nodes"), message);
        refusal("courier.database.url", clusterEnv(Map.of("COURIER_DATABASE_URL", "jdbc:h2:mem:x")));
    }

    @Test
    void clusterNodeRefusesAGeneratedSignSecret() {
        Map<String, String> env = clusterEnv(Map.of());
        env.remove("COURIER_KEY_SECRET");
        String message = refusal("courier.key.secret", env);
        assertTrue(message.contains("cluster mode"), message);
    }

    @Test
    void clusterNodeRefusesAGeneratedJwtSecretButTakesAnyConfiguredKey() {
        Map<String, String> env = clusterEnv(Map.of());
        env.remove("COURIER_JWT_SECRET");
        String message = refusal("courier.jwt.secret", env);
        assertTrue(message.contains("courier.jwt.jwks.url"), message);

        env.put("COURIER_JWT_JWKS_URL", "https://auth.example/.well-known/jwks.json");
        assertTrue(load(env).cluster().enabled(), "a JWKS URL is configured, not generated");
    }

    @Test
    void singleNodeNeedsNoneOfTheSharedState() {
        Config config = load(Map.of());
        assertTrue(config.database().embedded());
        assertFalse(config.jwt().configured());
        assertEquals(Optional.empty(), config.keys().secret());
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "courier.cluster.nats.url | http://127.0.0.1:4222",
                "courier.cluster.nats.url | nats://127.0.0.1:4222,",
                "courier.cluster.nats.url | nats://127.0.0.1:4222/path",
                "courier.cluster.node.id | node.a",
                "courier.cluster.node.id | node a",
                "courier.cluster.nats.ping.interval.seconds | 0",
                "courier.cluster.nats.reconnect.buffer.bytes | -1",
                "courier.cluster.unsubscribe.linger.ms | x",
                "courier.key.secret | too-short-secret",
                "courier.key.secret.previous | too-short-secret",
                "courier.jwt.secret.previous | too-short-secret",
                "courier.proxy.protocol | yes",
                "courier.shutdown.drain.grace.seconds | -1",
            })
    void badClusterValueIsRefusedNamingTheKey(String key, String value) {
        Map<String, String> env = clusterEnv(Map.of());
        env.put(ConfigLoader.envName(key), value);
        refusal(key, env);
    }

    @Test
    void natsUrlWithCredentialsIsRefusedWithoutEchoingThemAndLoggedRedacted() {
        String message = refusal(
                "courier.cluster.nats.url",
                clusterEnv(Map.of("COURIER_CLUSTER_NATS_URL", "http://nats-user:nats-pw-9@127.0.0.1:4222")));
        assertFalse(message.contains("nats-pw-9"), message);

        Config config =
                load(clusterEnv(Map.of("COURIER_CLUSTER_NATS_URL", "nats://nats-user:nats-pw-9@127.0.0.1:4222")));
        assertEquals(List.of("nats://****@127.0.0.1:4222"), config.cluster().redactedUrls());
        assertFalse(config.toString().contains("nats-pw-9"), config.toString());
        assertFalse(config.toString().contains("nats-user"), config.toString());
    }

    @Test
    void natsCredentialsAreOneKindAndOnlyForACluster() {
        refusal("courier.cluster.nats.password", clusterEnv(Map.of("COURIER_CLUSTER_NATS_PASSWORD", "pw")));
        refusal(
                "courier.cluster.nats.token",
                clusterEnv(Map.of("COURIER_CLUSTER_NATS_USER", "u", "COURIER_CLUSTER_NATS_TOKEN", "t")));
        refusal("courier.cluster.nats.token", Map.of("COURIER_CLUSTER_NATS_TOKEN", "t"));
        refusal(
                "courier.cluster.nats.credentials.file",
                clusterEnv(Map.of("COURIER_CLUSTER_NATS_CREDENTIALS_FILE", "/nonexistent/courier.creds")));
    }

    @Test
    void previousSecretsNeedACurrentOneAndDifferFromIt() {
        refusal(
                "courier.key.secret.previous",
                Map.of("COURIER_KEY_SECRET_PREVIOUS", "key-secret-of-last-month-0123456789abcdef"));
        refusal(
                "courier.key.secret.previous",
                Map.of("COURIER_KEY_SECRET", KEY_SECRET, "COURIER_KEY_SECRET_PREVIOUS", KEY_SECRET));
        refusal(
                "courier.jwt.secret.previous",
                Map.of("COURIER_JWT_SECRET_PREVIOUS", "jwt-secret-of-last-month-0123456789abcdef"));
        refusal(
                "courier.jwt.secret.previous",
                Map.of("COURIER_JWT_SECRET", JWT_SECRET, "COURIER_JWT_SECRET_PREVIOUS", JWT_SECRET));
    }

    @Test
    void clusterSecretsNeverShowInToString() {
        String nodeSecrets = load(clusterEnv(Map.of(
                        "COURIER_KEY_SECRET_PREVIOUS", "key-secret-of-last-month-0123456789abcdef",
                        "COURIER_JWT_SECRET_PREVIOUS", "jwt-secret-of-last-month-0123456789abcdef",
                        "COURIER_CLUSTER_NATS_USER", "nats-user",
                        "COURIER_CLUSTER_NATS_PASSWORD", "nats-password-4")))
                .toString();
        String withToken = load(clusterEnv(Map.of("COURIER_CLUSTER_NATS_TOKEN", "nats-token-5")))
                .toString();
        for (String secret : List.of(KEY_SECRET, JWT_SECRET, "of-last-month", "nats-password-4")) {
            assertFalse(nodeSecrets.contains(secret), secret + " in " + nodeSecrets);
        }
        assertFalse(withToken.contains("nats-token-5"), withToken);
    }

    @Test
    void drainGraceAndCloseSpreadMustEndInsideTheShutdownTimeout() {
        Config config = load(Map.of(
                "COURIER_SHUTDOWN_DRAIN_GRACE_SECONDS", "5",
                "COURIER_SHUTDOWN_CLOSE_SPREAD_SECONDS", "3",
                "COURIER_SHUTDOWN_TIMEOUT_SECONDS", "10"));
        assertEquals(Duration.ofSeconds(5), config.shutdownDrainGrace());
        assertEquals(Duration.ofSeconds(3), config.shutdownCloseSpread());

        String message = refusal(
                "courier.shutdown.timeout.seconds",
                Map.of("COURIER_SHUTDOWN_DRAIN_GRACE_SECONDS", "6", "COURIER_SHUTDOWN_CLOSE_SPREAD_SECONDS", "4"));
        assertTrue(message.contains("= 10"), message);
        assertEquals(
                Duration.ZERO,
                load(Map.of("COURIER_SHUTDOWN_TIMEOUT_SECONDS", "0")).shutdownDrainGrace(),
                "a zero timeout still loads when there is no drain");
    }

    // ---------------------------------------------------------------- env names

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "courier.port,                 COURIER_PORT",
        "courier.database.url,         COURIER_DATABASE_URL",
        "courier.jwt.key.file,         COURIER_JWT_KEY_FILE",
        "courier.jwt.jwks.url,         COURIER_JWT_JWKS_URL",
        "courier.http.max.body.bytes,  COURIER_HTTP_MAX_BODY_BYTES",
        "courier.ws.slow.consumer.bytes, COURIER_WS_SLOW_CONSUMER_BYTES",
    })
    void envNameUpperCasesAndReplacesDots(String key, String env) {
        assertEquals(env, ConfigLoader.envName(key));
    }

    @Test
    void everyKeyHasADistinctPortableEnvironmentName() {
        Pattern portable = Pattern.compile("COURIER_[A-Z0-9_]+");
        Set<String> names = new HashSet<>();
        for (String key : ConfigLoader.defaults().keySet()) {
            String env = ConfigLoader.envName(key);
            assertTrue(portable.matcher(env).matches(), key + " -> " + env);
            assertTrue(names.add(env), "two keys share " + env);
        }
        assertTrue(names.size() > 20, "defaults hold every key: " + names);
    }

    @Test
    void everyKeyCanBeSetFromTheEnvironment() {
        // Setting each key to its own default through its env name must be accepted and change nothing.
        Map<String, String> defaults = ConfigLoader.defaults();
        Map<String, String> env = new HashMap<>();
        defaults.forEach((key, value) -> env.put(ConfigLoader.envName(key), value));

        assertEquals(load(Map.of()), load(env));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }
}
