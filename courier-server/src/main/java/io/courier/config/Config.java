package io.courier.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The server's configuration, validated once by {@link ConfigLoader} and read-only afterwards.
 * Every field corresponds to one key of {@code config/courier.properties}.
 *
 * @param database    where audiences and topics live; see {@link DatabaseConfig}
 * @param jwt         how bearer tokens are verified; see {@link JwtConfig}
 * @param corsOrigins allowed browser origins; empty means any origin
 * @param keys        the secrets of the connection keys {@code /v1/sign} hands out; see {@link KeyConfig}
 * @param cluster     the NATS cluster this node joins; {@link ClusterConfig#enabled() disabled} for a single node
 * @param ioThreads   Netty event loops serving the sockets (configured 0: one per core)
 * @param proxyProtocol       every connection starts with a PROXY protocol (v1 or v2) header naming the client
 * @param shutdownDrainGrace  on SIGTERM, how long {@code /readyz} answers 503 before sockets are closed
 * @param shutdownCloseSpread on SIGTERM, the window over which the WebSockets are closed with 1001
 * @param envelopeData        wrap every successful {@code /v1/*} answer in {@code {"data": …}} (the original Courier's shape)
 * @param consoleEnabled      serve the browser console at {@code /console}
 * @param outboundMaxBytes    unsent bytes all WebSocket connections may hold together (configured 0: half the direct memory limit)
 */
public record Config(
        String host,
        int port,
        String wsUrl,
        int maxBodyBytes,
        Duration requestTimeout,
        Duration headerTimeout,
        long maxBufferedBytes,
        List<String> corsOrigins,
        int workers,
        int workerQueue,
        int ioThreads,
        Limits limits,
        Path dataDir,
        DatabaseConfig database,
        JwtConfig jwt,
        Duration signTtl,
        int maxFrameBytes,
        int maxSubscriptions,
        Duration pingInterval,
        Duration idleTimeout,
        int slowConsumerBytes,
        int sendBufferBytes,
        long outboundMaxBytes,
        int rateLimitPerSecond,
        boolean closeOnTokenExpiry,
        MetricsConfig metrics,
        Duration shutdownTimeout,
        KeyConfig keys,
        ClusterConfig cluster,
        boolean proxyProtocol,
        Duration shutdownDrainGrace,
        Duration shutdownCloseSpread,
        boolean envelopeData,
        boolean consoleEnabled,
        HistoryConfig history) {

    /**
     * Server-wide history defaults and maxima ({@code courier.history.*}); each topic's own
     * {@link HistorySettings} are chosen at creation within them.
     *
     * @param defaultSize       what a topic created without {@code history} keeps (0: no history)
     * @param defaultTtlSeconds how long, when it does not say
     * @param maxSize           the largest {@code history.size} a topic may ask for
     * @param maxTtlSeconds     the longest {@code history.ttl} a topic may ask for
     * @param recoveryLimit     a subscriber further behind than this many messages gets {@code recovered:false}
     * @param maxMemoryBytes    single node: bytes all topics' histories may hold together
     */
    public record HistoryConfig(
            int defaultSize,
            int defaultTtlSeconds,
            int maxSize,
            int maxTtlSeconds,
            int recoveryLimit,
            long maxMemoryBytes) {

        /** The settings of a topic created without {@code history}. */
        public HistorySettings defaults() {
            return defaultSize == 0 ? HistorySettings.NONE : new HistorySettings(defaultSize, defaultTtlSeconds);
        }
    }

    /**
     * Caps that keep one client, one address or one tenant from taking what the others need.
     * Zero turns a limit off, except {@code maxConnections}, which is always resolved to a number.
     *
     * @param maxConnections            open TCP connections of every kind, refused at accept
     * @param maxConnectionsPerAddress  open connections from one remote address
     * @param audienceMaxConnections    open WebSockets of one audience
     * @param hookRatePerSecond         {@code POST /v1/hook} calls per second for one audience
     */
    public record Limits(
            int maxConnections, int maxConnectionsPerAddress, int audienceMaxConnections, int hookRatePerSecond) {}

    /** @param token static bearer token guarding {@code /metrics}, if any */
    public record MetricsConfig(boolean enabled, Optional<String> token) {
        @Override
        public String toString() {
            return "MetricsConfig[enabled=" + enabled + ", token=" + token.map(t -> "****") + "]";
        }
    }

    /**
     * @param jdbcUrl   JDBC URL; for the embedded default an H2 file URL inside the data directory
     * @param embedded  true when no database URL was configured and H2 is used
     * @param namespace schema holding Courier's tables, a plain SQL identifier
     */
    public record DatabaseConfig(
            String jdbcUrl,
            String user,
            String password,
            boolean embedded,
            String namespace,
            int poolSize,
            Duration timeout) {

        @Override
        public String toString() {
            return "DatabaseConfig[jdbcUrl=" + DatabaseUrl.redact(jdbcUrl) + ", user=" + user + ", password="
                    + (password.isEmpty() ? "" : "****") + ", embedded=" + embedded + ", namespace=" + namespace
                    + ", poolSize=" + poolSize + ", timeout=" + timeout + "]";
        }
    }

    /**
     * At most one of secret, keyFile and jwksUrl is set.
     *
     * @param secret    HMAC secret, when tokens are HS*-signed and a secret was configured
     * @param previousSecret a second HMAC secret that verifies but never signs (rotation); only with {@code secret}
     * @param keyFile   public key file (PEM or JWK), when tokens are RS256/ES256-signed
     * @param jwksUrl   http(s) URL of the issuer's JWK set, when keys are fetched (and rotated) remotely
     * @param algorithm configured algorithm name, empty to derive it from the key; never empty with a JWKS URL
     * @param issuer    required {@code iss}, if any
     */
    public record JwtConfig(
            Optional<String> secret,
            Optional<String> previousSecret,
            Optional<Path> keyFile,
            Optional<URI> jwksUrl,
            String algorithm,
            Optional<String> issuer,
            Duration clockSkew) {

        /** Without a previous secret. */
        public JwtConfig(
                Optional<String> secret,
                Optional<Path> keyFile,
                Optional<URI> jwksUrl,
                String algorithm,
                Optional<String> issuer,
                Duration clockSkew) {
            this(secret, Optional.empty(), keyFile, jwksUrl, algorithm, issuer, clockSkew);
        }

        /** Without a JWKS URL or a previous secret. */
        public JwtConfig(
                Optional<String> secret,
                Optional<Path> keyFile,
                String algorithm,
                Optional<String> issuer,
                Duration clockSkew) {
            this(secret, keyFile, Optional.empty(), algorithm, issuer, clockSkew);
        }

        /** True when the key is configured, not generated in the data directory. */
        public boolean configured() {
            return secret.isPresent() || keyFile.isPresent() || jwksUrl.isPresent();
        }

        @Override
        public String toString() {
            return "JwtConfig[secret=" + secret.map(s -> "****") + ", previousSecret="
                    + previousSecret.map(s -> "****") + ", keyFile=" + keyFile + ", jwksUrl=" + jwksUrl
                    + ", algorithm=" + algorithm + ", issuer=" + issuer + ", clockSkew=" + clockSkew + "]";
        }
    }

    /**
     * The secrets of the connection keys. Empty {@code secret}: the key generated in the data directory
     * signs and verifies (the single-node default); {@code previous} is then empty too.
     *
     * @param secret   {@code courier.key.secret}: signs and verifies; the same on every node of a cluster
     * @param previous {@code courier.key.secret.previous}: verifies only, so a new secret can roll node by node
     */
    public record KeyConfig(Optional<String> secret, Optional<String> previous) {
        /** The single-node default: the key generated in the data directory. */
        public static final KeyConfig GENERATED = new KeyConfig(Optional.empty(), Optional.empty());

        @Override
        public String toString() {
            return "KeyConfig[secret=" + secret.map(s -> "****") + ", previous=" + previous.map(s -> "****") + "]";
        }
    }

    /**
     * How this node joins a cluster over NATS. With no URL it is a single node, {@link #enabled()} is
     * false and no other field matters.
     *
     * @param natsUrls            {@code nats://} or {@code tls://} servers; empty for a single node
     * @param credentialsFile     a NATS credentials file (JWT and NKey seed), if any
     * @param user                NATS user, with {@code password}; at most one of file, user, token
     * @param token               NATS authentication token
     * @param nodeId              this node's id, {@code [A-Za-z0-9_-]}; unless configured a random UUID generated
     *                            when the configuration is loaded at start; empty for a single node
     * @param pingInterval        how often the client pings NATS, so a dead server is noticed within seconds
     * @param reconnectBufferBytes publishes held while NATS is unreachable; 0 refuses them at once
     * @param unsubscribeLinger   how long a subject's NATS subscription outlives its last local subscriber
     */
    public record ClusterConfig(
            List<URI> natsUrls,
            Optional<Path> credentialsFile,
            Optional<String> user,
            Optional<String> password,
            Optional<String> token,
            String nodeId,
            Duration pingInterval,
            long reconnectBufferBytes,
            Duration unsubscribeLinger) {

        /** True when a NATS URL is configured: this node is one of a cluster. */
        public boolean enabled() {
            return !natsUrls.isEmpty();
        }

        /** The URLs with any user info replaced by {@code ****}, for logs and messages. */
        public List<String> redactedUrls() {
            return natsUrls.stream().map(ClusterConfig::redact).toList();
        }

        /** {@code nats://user:pw@host:4222} → {@code nats://****@host:4222}; other URLs unchanged. */
        public static String redact(URI url) {
            if (url.getRawUserInfo() == null) {
                return url.toString();
            }
            return url.getScheme() + "://****@" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                    + (url.getRawPath() == null ? "" : url.getRawPath());
        }

        @Override
        public String toString() {
            return "ClusterConfig[natsUrls=" + redactedUrls() + ", credentialsFile=" + credentialsFile + ", user="
                    + user
                    + ", password=" + password.map(s -> "****") + ", token=" + token.map(s -> "****") + ", nodeId="
                    + nodeId + ", pingInterval=" + pingInterval + ", reconnectBufferBytes=" + reconnectBufferBytes
                    + ", unsubscribeLinger=" + unsubscribeLinger + "]";
        }
    }
}
