package io.courier.config;

import io.courier.text.Names;
import io.courier.text.StrictUtf8;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Builds the {@link Config} from, lowest precedence first: the defaults shipped in the jar (the same
 * {@code config/courier.properties} operators read), an optional file given with {@code --config},
 * and environment variables ({@code courier.database.url} → {@code COURIER_DATABASE_URL}).
 * Every value is validated here, once; a mistake becomes a {@link ConfigException} naming the key.
 */
public final class ConfigLoader {
    /** The smallest outbound budget: four frames of the default maximum size (64 KiB). */
    private static final long MIN_OUTBOUND_BYTES = 256 * 1024;

    private static final String DEFAULTS = "courier.properties";
    private static final String JWKS_URL = "courier.jwt.jwks.url";
    private static final Set<String> ALGORITHMS = Set.of("HS256", "HS384", "HS512", "RS256", "ES256");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final String CLUSTER_URL = "courier.cluster.nats.url";

    /**
     * WRITE_DELAY=0: commit to disk before answering. H2's default delays writes by 500 ms, and a
     * kill -9 in that window lost topics the API had already acknowledged with 201.
     */
    private static final String EMBEDDED_H2_SETTINGS = ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";

    private final Map<String, String> values;

    private ConfigLoader(Map<String, String> values) {
        this.values = values;
    }

    /**
     * @param file      the {@code --config} file, if any
     * @param env       environment variables (normally {@link System#getenv()})
     * @param overrides highest-precedence values by property key (tests use this)
     */
    public static Config load(Optional<Path> file, Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> values = new TreeMap<>(defaults());
        file.ifPresent(path -> values.putAll(readFile(path)));
        for (String key : List.copyOf(values.keySet())) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                values.put(key, fromEnv);
            }
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!values.containsKey(e.getKey())) {
                throw new ConfigException(e.getKey(), "unknown key");
            }
            values.put(e.getKey(), e.getValue());
        }
        return new ConfigLoader(values).build();
    }

    /** {@code courier.database.url} → {@code COURIER_DATABASE_URL}. */
    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /** Every key with its built-in default, in key order. */
    public static Map<String, String> defaults() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
            if (in == null) {
                throw new IllegalStateException("missing built-in " + DEFAULTS + " (a broken build)");
            }
            Properties p = new Properties();
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            return toMap(p);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read built-in " + DEFAULTS, e);
        }
    }

    private static Map<String, String> readFile(Path path) {
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(r);
            Map<String, String> map = toMap(p);
            Map<String, String> known = defaults();
            for (String key : map.keySet()) {
                if (!known.containsKey(key)) {
                    throw new ConfigException(key, "unknown key in " + path);
                }
            }
            return map;
        } catch (IOException e) {
            throw new ConfigException("--config", "cannot read " + path + " (" + e.getMessage() + ")");
        }
    }

    private static Map<String, String> toMap(Properties p) {
        Map<String, String> map = new TreeMap<>();
        for (String name : p.stringPropertyNames()) {
            map.put(name, p.getProperty(name).trim());
        }
        return map;
    }

    private Config build() {
        Path dataDir = dataDir();
        Config.DatabaseConfig database = database(dataDir);
        Config.JwtConfig jwt = jwt();
        Config.KeyConfig keys = keys();
        Config.ClusterConfig cluster = cluster();
        if (cluster.enabled()) {
            requireSharedState(database, jwt, keys);
        }
        Duration shutdownTimeout = seconds("courier.shutdown.timeout.seconds", 0, 3600);
        Duration grace = seconds("courier.shutdown.drain.grace.seconds", 0, 3600);
        Duration spread = seconds("courier.shutdown.close.spread.seconds", 0, 3600);
        // The drain must end inside the timeout with room left for the close handshakes: a node that
        // overran it would be killed by its supervisor halfway through spreading its closes.
        if (!grace.plus(spread).isZero() && grace.plus(spread).compareTo(shutdownTimeout) >= 0) {
            throw new ConfigException(
                    "courier.shutdown.timeout.seconds",
                    shutdownTimeout.toSeconds() + " (expected: more than courier.shutdown.drain.grace.seconds"
                            + " + courier.shutdown.close.spread.seconds = "
                            + grace.plus(spread).toSeconds() + ")");
        }
        return new Config(
                string("courier.host"),
                intIn("courier.port", 0, 65535),
                wsUrl(),
                intIn("courier.http.max.body.bytes", 1, 64 * 1024 * 1024),
                seconds("courier.http.request.timeout.seconds", 1, 3600),
                seconds("courier.http.header.timeout.seconds", 1, 3600),
                maxBufferedBytes(),
                origins(),
                intIn("courier.workers", 1, 1024),
                intIn("courier.workers.queue", 1, 1_000_000),
                ioThreads(),
                limits(),
                dataDir,
                database,
                jwt,
                seconds("courier.sign.ttl.seconds", 1, 86_400),
                intIn("courier.ws.max.frame.bytes", 128, 16 * 1024 * 1024),
                intIn("courier.ws.max.subscriptions", 1, 1_000_000),
                seconds("courier.ws.ping.interval.seconds", 1, 3600),
                seconds("courier.ws.idle.timeout.seconds", 1, 86_400),
                intIn("courier.ws.slow.consumer.bytes", 1024, Integer.MAX_VALUE),
                intIn("courier.ws.send.buffer.bytes", 0, 64 * 1024 * 1024),
                outboundMaxBytes(),
                intIn("courier.ws.rate.limit.per.second", 0, 1_000_000),
                bool("courier.ws.close.on.token.expiry"),
                new Config.MetricsConfig(
                        bool("courier.metrics.enabled"),
                        Optional.of(secretString("courier.metrics.token")).filter(s -> !s.isEmpty())),
                shutdownTimeout,
                keys,
                cluster,
                bool("courier.proxy.protocol"),
                grace,
                spread,
                envelope(),
                bool("courier.console.enabled"),
                history());
    }

    /** {@code courier.api.envelope}: true for {@code data}, false for {@code none}. */
    private boolean envelope() {
        String key = "courier.api.envelope";
        String raw = string(key);
        return switch (raw) {
            case "none" -> false;
            case "data" -> true;
            default -> throw new ConfigException(key, "'" + raw + "' (expected: none or data)");
        };
    }

    /**
     * {@code courier.io.threads}, 0 resolved to one loop per core. Netty's own default, two per core,
     * measured worse here: with the cores shared with anything else (the load client, a second node)
     * the extra loops only add scheduling delay (docs/performance.md, "Event loops").
     */
    private int ioThreads() {
        int threads = intIn("courier.io.threads", 0, 1024);
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** Defaults must lie within the maxima, so every topic created without settings is valid. */
    private Config.HistoryConfig history() {
        int maxSize = intIn("courier.history.max.size", 0, 1_000_000);
        int maxTtl = intIn("courier.history.max.ttl.seconds", 1, 30 * 86_400);
        int size = intIn("courier.history.size", 0, maxSize);
        int ttl = intIn("courier.history.ttl.seconds", 1, maxTtl);
        return new Config.HistoryConfig(
                size,
                ttl,
                maxSize,
                maxTtl,
                intIn("courier.history.recovery.limit", 1, 1_000_000),
                longIn("courier.history.max.memory.bytes", 1024, Long.MAX_VALUE));
    }

    /**
     * A cluster node must agree with every other node on what it cannot generate alone: the key that
     * opens signed connection keys, the key that verifies bearer tokens, and the database.
     */
    private static void requireSharedState(
            Config.DatabaseConfig database, Config.JwtConfig jwt, Config.KeyConfig keys) {
        if (database.embedded() || database.jdbcUrl().startsWith("jdbc:h2:")) {
            throw new ConfigException(
                    "courier.database.url",
                    (database.embedded() ? "empty, the embedded H2" : "an H2 database")
                            + ", but cluster mode (" + CLUSTER_URL + " is set) needs PostgreSQL shared by all nodes"
                            + " (expected: jdbc:postgresql://... or postgres://...)");
        }
        if (keys.secret().isEmpty()) {
            throw new ConfigException(
                    "courier.key.secret",
                    "required in cluster mode (" + CLUSTER_URL + " is set): the same secret of at least 32 bytes on"
                            + " every node, or a key signed by one node is refused by the others");
        }
        if (!jwt.configured()) {
            throw new ConfigException(
                    "courier.jwt.secret",
                    "required in cluster mode (" + CLUSTER_URL + " is set): the same courier.jwt.secret,"
                            + " courier.jwt.key.file or courier.jwt.jwks.url on every node, not one generated per node");
        }
    }

    private Config.KeyConfig keys() {
        Optional<String> secret = minimumSecret("courier.key.secret");
        Optional<String> previous = minimumSecret("courier.key.secret.previous");
        if (previous.isPresent() && secret.isEmpty()) {
            throw new ConfigException(
                    "courier.key.secret.previous", "set without courier.key.secret (expected: both, or neither)");
        }
        if (previous.isPresent() && previous.equals(secret)) {
            throw new ConfigException(
                    "courier.key.secret.previous", "equals courier.key.secret (expected: the old one)");
        }
        return new Config.KeyConfig(secret, previous);
    }

    /** An optional secret of at least 32 UTF-8 bytes; the message never echoes it. */
    private Optional<String> minimumSecret(String key) {
        Optional<String> secret = Optional.of(secretString(key)).filter(s -> !s.isEmpty());
        if (secret.isPresent() && StrictUtf8.encode(secret.get()).length < 32) {
            throw new ConfigException(key, "too short (expected: at least 32 bytes)");
        }
        return secret;
    }

    private Config.ClusterConfig cluster() {
        List<URI> urls = natsUrls();
        Optional<Path> credentials = Optional.of(string("courier.cluster.nats.credentials.file"))
                .filter(s -> !s.isEmpty())
                .map(Path::of);
        Optional<String> user = Optional.of(string("courier.cluster.nats.user")).filter(s -> !s.isEmpty());
        Optional<String> password =
                Optional.of(secretString("courier.cluster.nats.password")).filter(s -> !s.isEmpty());
        Optional<String> token =
                Optional.of(secretString("courier.cluster.nats.token")).filter(s -> !s.isEmpty());
        if (password.isPresent() && user.isEmpty()) {
            throw new ConfigException(
                    "courier.cluster.nats.password", "set without courier.cluster.nats.user (expected: both)");
        }
        int kinds = (credentials.isPresent() ? 1 : 0) + (user.isPresent() ? 1 : 0) + (token.isPresent() ? 1 : 0);
        if (kinds > 1) {
            throw new ConfigException(
                    credentials.isPresent() ? "courier.cluster.nats.credentials.file" : "courier.cluster.nats.token",
                    "combined with other NATS credentials (expected: one of credentials.file, user and password,"
                            + " token)");
        }
        if (kinds > 0 && urls.isEmpty()) {
            throw new ConfigException(
                    credentials.isPresent()
                            ? "courier.cluster.nats.credentials.file"
                            : user.isPresent() ? "courier.cluster.nats.user" : "courier.cluster.nats.token",
                    "set without " + CLUSTER_URL + " (expected: NATS credentials only for a cluster)");
        }
        if (credentials.isPresent() && !Files.isReadable(credentials.get())) {
            throw new ConfigException(
                    "courier.cluster.nats.credentials.file",
                    "cannot read " + credentials.get().toAbsolutePath());
        }
        return new Config.ClusterConfig(
                urls,
                credentials,
                user,
                password,
                token,
                urls.isEmpty() ? "" : nodeId(),
                seconds("courier.cluster.nats.ping.interval.seconds", 1, 3600),
                longIn("courier.cluster.nats.reconnect.buffer.bytes", 0, 1L << 30),
                Duration.ofMillis(intIn("courier.cluster.unsubscribe.linger.ms", 0, 600_000)));
    }

    private List<URI> natsUrls() {
        String raw = string(CLUSTER_URL);
        if (raw.isEmpty()) {
            return List.of();
        }
        List<URI> urls = new ArrayList<>();
        for (String part : raw.split(",", -1)) {
            urls.add(natsUrl(part.trim()));
        }
        return List.copyOf(urls);
    }

    private static URI natsUrl(String raw) {
        try {
            URI uri = new URI(raw);
            if (("nats".equals(uri.getScheme()) || "tls".equals(uri.getScheme()))
                    && uri.getHost() != null
                    && uri.getRawQuery() == null
                    && uri.getRawFragment() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty())) {
                return uri;
            }
        } catch (URISyntaxException ignored) {
            // reported below
        }
        // Never echo a URL that may carry credentials.
        String shown = raw.contains("@") ? "(a URL with user info)" : "'" + raw + "'";
        throw new ConfigException(
                CLUSTER_URL,
                shown + " (expected: comma-separated nats:// or tls:// URLs such as nats://10.0.0.5:4222)");
    }

    private String nodeId() {
        String key = "courier.cluster.node.id";
        String raw = string(key);
        if (raw.isEmpty()) {
            return UUID.randomUUID().toString();
        }
        if (!NODE_ID.matcher(raw).matches()) {
            // Not echoed: it may hold control characters.
            throw new ConfigException(key, "not an id (expected: 1-64 letters, digits, _ and -)");
        }
        return raw;
    }

    /** 0 resolves to a quarter of the direct memory Netty may use, which is what request bodies spend. */
    private long maxBufferedBytes() {
        String key = "courier.http.max.buffered.bytes";
        long bytes = longIn(key, 0, Long.MAX_VALUE);
        return bytes > 0 ? bytes : Math.max(1, PlatformDependent.maxDirectMemory() / 4);
    }

    /**
     * {@code courier.ws.outbound.max.bytes}, 0 resolved to half the direct memory Netty may use:
     * the connections' unsent frames are pooled direct memory, and the other half stays for what the
     * budget does not count (request bodies, a quarter by default; fan-out queues, inbound frames,
     * the allocator's free chunks), so overload ends in cut-offs before allocations fail. A budget
     * past the direct memory limit could never be reached before the allocations fail, and one
     * smaller than a few frames would cut off healthy connections.
     */
    private long outboundMaxBytes() {
        String key = "courier.ws.outbound.max.bytes";
        long limit = PlatformDependent.maxDirectMemory();
        long bytes = longIn(key, 0, Long.MAX_VALUE);
        if (bytes == 0) {
            return Math.max(MIN_OUTBOUND_BYTES, limit / 2);
        }
        if (bytes < MIN_OUTBOUND_BYTES || bytes > limit) {
            throw new ConfigException(
                    key,
                    bytes + " (expected: 0 for half the direct memory limit, or " + MIN_OUTBOUND_BYTES + "-" + limit
                            + ", the JVM's maximum direct memory)");
        }
        return bytes;
    }

    private Config.Limits limits() {
        int maxConnections = intIn("courier.max.connections", 0, Integer.MAX_VALUE);
        if (maxConnections == 0) {
            maxConnections = FileDescriptors.defaultConnectionLimit();
        }
        return new Config.Limits(
                maxConnections,
                intIn("courier.max.connections.per.address", 0, Integer.MAX_VALUE),
                intIn("courier.audience.max.connections", 0, Integer.MAX_VALUE),
                intIn("courier.hook.rate.limit.per.second", 0, 1_000_000));
    }

    private String string(String key) {
        return values.getOrDefault(key, "");
    }

    /**
     * A secret used as UTF-8 bytes (an HMAC key, a bearer token): refused when it cannot be encoded, since
     * {@code getBytes(UTF_8)} would turn each unpaired surrogate into '?' and two secrets into one key.
     * The message never echoes the value.
     */
    private String secretString(String key) {
        String value = string(key);
        try {
            StrictUtf8.encode(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, "not encodable as UTF-8 (" + Names.problem(value) + ")");
        }
        return value;
    }

    private int intIn(String key, int min, int max) {
        return (int) longIn(key, min, max);
    }

    private long longIn(String key, long min, long max) {
        String raw = string(key);
        long value;
        try {
            value = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new ConfigException(key, "'" + raw + "' is not a number (expected: " + min + "-" + max + ")");
        }
        if (value < min || value > max) {
            throw new ConfigException(key, value + " (expected: " + min + "-" + max + ")");
        }
        return value;
    }

    private boolean bool(String key) {
        String raw = string(key);
        if (raw.equalsIgnoreCase("true")) {
            return true;
        }
        if (raw.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigException(key, "'" + raw + "' (expected: true or false)");
    }

    private Duration seconds(String key, int min, int max) {
        return Duration.ofSeconds(intIn(key, min, max));
    }

    private String wsUrl() {
        String key = "courier.ws.url";
        String raw = string(key);
        try {
            URI uri = new URI(raw);
            if (("ws".equals(uri.getScheme()) || "wss".equals(uri.getScheme()))
                    && uri.getHost() != null
                    && uri.getRawQuery() == null) {
                return raw;
            }
        } catch (URISyntaxException ignored) {
            // reported below
        }
        throw new ConfigException(
                key,
                "'" + raw + "' (expected: ws:// or wss:// URL without a query, e.g. wss://courier.example.com/ws)");
    }

    private List<String> origins() {
        String raw = string("courier.cors.allowed.origins");
        if (raw.isEmpty() || raw.equals("*")) {
            return List.of();
        }
        return Arrays.stream(raw.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    private Path dataDir() {
        String raw = string("courier.data.dir");
        Path dir = raw.isEmpty() ? Path.of(System.getProperty("user.home"), ".courier") : Path.of(raw);
        return dir.toAbsolutePath().normalize();
    }

    private Config.DatabaseConfig database(Path dataDir) {
        String namespace = string("courier.database.namespace");
        if (!IDENTIFIER.matcher(namespace).matches()) {
            throw new ConfigException(
                    "courier.database.namespace",
                    "'" + namespace + "' (expected: a SQL identifier of letters, digits and _)");
        }
        String url = string("courier.database.url");
        boolean embedded = url.isEmpty();
        DatabaseUrl parsed = embedded
                ? new DatabaseUrl("jdbc:h2:file:" + dataDir.resolve("courier") + EMBEDDED_H2_SETTINGS, "sa", "")
                : DatabaseUrl.parse("courier.database.url", url);
        String user = string("courier.database.user").isEmpty() ? parsed.user() : string("courier.database.user");
        String password =
                string("courier.database.password").isEmpty() ? parsed.password() : string("courier.database.password");
        return new Config.DatabaseConfig(
                parsed.jdbcUrl(),
                user,
                password,
                embedded,
                namespace,
                intIn("courier.database.pool.size", 1, 1000),
                Duration.ofMillis(intIn("courier.database.timeout.ms", 250, 600_000)));
    }

    private Optional<URI> jwksUrl() {
        String raw = string(JWKS_URL);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(raw);
            if (("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))
                    && uri.getHost() != null
                    && uri.getRawUserInfo() == null
                    && uri.getRawFragment() == null) {
                return Optional.of(uri);
            }
        } catch (URISyntaxException ignored) {
            // reported below
        }
        // Never echo a URL that may carry credentials.
        String shown = raw.contains("@") ? "(a URL with user info)" : "'" + raw + "'";
        throw new ConfigException(
                JWKS_URL,
                shown + " (expected: an https:// or http:// URL without user info or fragment,"
                        + " e.g. https://auth.example.com/.well-known/jwks.json)");
    }

    private Config.JwtConfig jwt() {
        String algorithm = string("courier.jwt.algorithm").toUpperCase(Locale.ROOT);
        if (!algorithm.isEmpty() && !ALGORITHMS.contains(algorithm)) {
            throw new ConfigException(
                    "courier.jwt.algorithm",
                    "unknown algorithm '" + algorithm + "' (expected: one of " + new TreeSet<>(ALGORITHMS) + ")");
        }
        Optional<String> secret =
                Optional.of(secretString("courier.jwt.secret")).filter(s -> !s.isEmpty());
        Optional<Path> keyFile = Optional.of(string("courier.jwt.key.file"))
                .filter(s -> !s.isEmpty())
                .map(Path::of);
        Optional<URI> jwksUrl = jwksUrl();
        if (jwksUrl.isPresent()) {
            // One source of keys: with two, which one verifies a token would be a guess.
            String other =
                    secret.isPresent() ? "courier.jwt.secret" : keyFile.isPresent() ? "courier.jwt.key.file" : null;
            if (other != null) {
                throw new ConfigException(
                        JWKS_URL,
                        "cannot be combined with " + other
                                + " (expected: only one of courier.jwt.secret, courier.jwt.key.file, courier.jwt.jwks.url)");
            }
            // A JWK set holds public keys; an HMAC algorithm here would mean verifying with a published key.
            if (algorithm.startsWith("HS")) {
                throw new ConfigException(
                        "courier.jwt.algorithm",
                        algorithm + " needs courier.jwt.secret, not a JWKS URL (expected: RS256 or ES256)");
            }
            algorithm = algorithm.isEmpty() ? "RS256" : algorithm;
        } else if (keyFile.isPresent()) {
            Path file = keyFile.get();
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new ConfigException("courier.jwt.key.file", "cannot read " + file.toAbsolutePath());
            }
            if (algorithm.startsWith("HS")) {
                throw new ConfigException(
                        "courier.jwt.algorithm", algorithm + " needs courier.jwt.secret, not a public key file");
            }
        } else if (!algorithm.isEmpty() && !algorithm.startsWith("HS")) {
            throw new ConfigException(
                    "courier.jwt.key.file",
                    algorithm + " needs a public key file (PEM or JWK) or courier.jwt.jwks.url");
        }
        if (secret.isPresent() && StrictUtf8.encode(secret.get()).length < 32) {
            throw new ConfigException("courier.jwt.secret", "too short (expected: at least 32 bytes for HMAC-SHA256)");
        }
        Optional<String> previous = minimumSecret("courier.jwt.secret.previous");
        if (previous.isPresent() && secret.isEmpty()) {
            // A key file or JWK set rotates by kid; a generated secret has no predecessor to accept.
            throw new ConfigException(
                    "courier.jwt.secret.previous", "set without courier.jwt.secret (expected: both, or neither)");
        }
        if (previous.isPresent() && previous.equals(secret)) {
            throw new ConfigException(
                    "courier.jwt.secret.previous", "equals courier.jwt.secret (expected: the old one)");
        }
        return new Config.JwtConfig(
                secret,
                previous,
                keyFile,
                jwksUrl,
                algorithm,
                Optional.of(string("courier.jwt.issuer")).filter(s -> !s.isEmpty()),
                seconds("courier.jwt.clock.skew.seconds", 0, 3600));
    }
}
