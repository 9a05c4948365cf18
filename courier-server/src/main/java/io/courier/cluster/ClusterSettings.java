package io.courier.cluster;

import io.courier.config.Config;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * How a node joins the cluster's NATS. Temporary home of these settings until they are read from
 * {@code courier.cluster.*} in {@link io.courier.config.Config}; the assembler passes them to
 * {@code CourierServer.start(Config, ClusterSettings)}. Secrets ({@code password}, {@code token})
 * and the user:password part of URLs are masked by {@link #toString()}. Immutable; any thread.
 *
 * @param urls {@code nats://} or {@code tls://} URLs of one NATS cluster; never empty
 * @param nodeId this node's name in NATS headers and the connection name; unique per running node
 * @param pingInterval how often jnats pings NATS: a dead server is noticed within about two of these
 *     (jnats's default, 2 minutes, is far too slow)
 * @param reconnectBufferBytes what jnats holds of publishes while reconnecting; past it a publish is
 *     refused with {@code ECLUSTER_UNAVAILABLE} (0: refused as soon as NATS is lost)
 * @param unsubscribeLinger how long a subject stays subscribed after its last local subscriber left
 * @param user NATS user name, empty for none
 * @param password NATS password, empty for none
 * @param token NATS token, empty for none
 * @param credentialsFile path of a NATS {@code .creds} file, empty for none
 */
public record ClusterSettings(
        List<String> urls,
        String nodeId,
        Duration pingInterval,
        long reconnectBufferBytes,
        Duration unsubscribeLinger,
        String user,
        String password,
        String token,
        String credentialsFile) {
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(2);
    /** jnats's default (Options.DEFAULT_RECONNECT_BUF_SIZE). */
    public static final long DEFAULT_RECONNECT_BUFFER_BYTES = 8L * 1024 * 1024;

    public static final Duration DEFAULT_UNSUBSCRIBE_LINGER = Duration.ofSeconds(1);

    public ClusterSettings {
        urls = List.copyOf(urls);
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("urls: [] (expected: at least one nats:// URL)");
        }
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId: blank (expected: a name unique per node)");
        }
        if (pingInterval.isNegative() || pingInterval.isZero()) {
            throw new IllegalArgumentException("pingInterval: " + pingInterval + " (expected: > 0)");
        }
        if (reconnectBufferBytes < 0) {
            throw new IllegalArgumentException("reconnectBufferBytes: " + reconnectBufferBytes + " (expected: >= 0)");
        }
        if (unsubscribeLinger.isNegative()) {
            throw new IllegalArgumentException("unsubscribeLinger: " + unsubscribeLinger + " (expected: >= 0)");
        }
    }

    /** The settings of {@code courier.cluster.*}, or null when no NATS URL is configured (a single node). */
    public static ClusterSettings from(Config.ClusterConfig cluster) {
        if (!cluster.enabled()) {
            return null;
        }
        return new ClusterSettings(
                cluster.natsUrls().stream().map(URI::toString).toList(),
                cluster.nodeId(),
                cluster.pingInterval(),
                cluster.reconnectBufferBytes(),
                cluster.unsubscribeLinger(),
                cluster.user().orElse(""),
                cluster.password().orElse(""),
                cluster.token().orElse(""),
                cluster.credentialsFile().map(Path::toString).orElse(""));
    }

    /** The defaults for {@code urls}, a generated node id and no credentials. */
    public static ClusterSettings of(List<String> urls) {
        return new ClusterSettings(
                urls,
                "node-" + UUID.randomUUID().toString().substring(0, 8),
                DEFAULT_PING_INTERVAL,
                DEFAULT_RECONNECT_BUFFER_BYTES,
                DEFAULT_UNSUBSCRIBE_LINGER,
                "",
                "",
                "",
                "");
    }

    public ClusterSettings withNodeId(String id) {
        return new ClusterSettings(
                urls,
                id,
                pingInterval,
                reconnectBufferBytes,
                unsubscribeLinger,
                user,
                password,
                token,
                credentialsFile);
    }

    public ClusterSettings withReconnectBufferBytes(long bytes) {
        return new ClusterSettings(
                urls, nodeId, pingInterval, bytes, unsubscribeLinger, user, password, token, credentialsFile);
    }

    /** {@code nats://user:secret@host:4222} as {@code nats://****@host:4222}. */
    static String redact(String url) {
        return url.replaceFirst("^([a-zA-Z]+://)[^@/]*@", "$1****@");
    }

    @Override
    public String toString() {
        return "ClusterSettings[urls="
                + urls.stream().map(ClusterSettings::redact).toList()
                + ", nodeId=" + nodeId
                + ", pingInterval=" + pingInterval
                + ", reconnectBufferBytes=" + reconnectBufferBytes
                + ", unsubscribeLinger=" + unsubscribeLinger
                + ", user=" + user
                + ", password=" + (password.isEmpty() ? "" : "****")
                + ", token=" + (token.isEmpty() ? "" : "****")
                + ", credentialsFile=" + credentialsFile + "]";
    }
}
