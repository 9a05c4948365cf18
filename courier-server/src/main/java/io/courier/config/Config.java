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
        int rateLimitPerSecond,
        boolean closeOnTokenExpiry,
        MetricsConfig metrics,
        Duration shutdownTimeout) {

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
     * @param keyFile   public key file (PEM or JWK), when tokens are RS256/ES256-signed
     * @param jwksUrl   http(s) URL of the issuer's JWK set, when keys are fetched (and rotated) remotely
     * @param algorithm configured algorithm name, empty to derive it from the key; never empty with a JWKS URL
     * @param issuer    required {@code iss}, if any
     */
    public record JwtConfig(
            Optional<String> secret,
            Optional<Path> keyFile,
            Optional<URI> jwksUrl,
            String algorithm,
            Optional<String> issuer,
            Duration clockSkew) {

        /** Without a JWKS URL. */
        public JwtConfig(
                Optional<String> secret,
                Optional<Path> keyFile,
                String algorithm,
                Optional<String> issuer,
                Duration clockSkew) {
            this(secret, keyFile, Optional.empty(), algorithm, issuer, clockSkew);
        }

        @Override
        public String toString() {
            return "JwtConfig[secret=" + secret.map(s -> "****") + ", keyFile=" + keyFile + ", jwksUrl=" + jwksUrl
                    + ", algorithm=" + algorithm + ", issuer=" + issuer + ", clockSkew=" + clockSkew + "]";
        }
    }
}
