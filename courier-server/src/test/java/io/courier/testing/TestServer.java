package io.courier.testing;

import io.courier.CourierServer;
import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.cluster.ClusterSettings;
import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * The real server, in-process on an ephemeral loopback port with its own data directory and
 * embedded H2, started by the test that holds it (try-with-resources). A test class that wants one
 * server for all its tests registers a {@link CourierExtension} instead.
 */
public final class TestServer extends ServerClient implements AutoCloseable {
    public static final String SECRET = TestConfig.SECRET;

    private final Map<String, String> overrides;
    /** Null for a single node. */
    private final ClusterSettings cluster;

    private final CourierServer server;
    private final TokenIssuer issuer;
    /** Set when {@link #restart} hands the data directory to a new instance, which then deletes it. */
    private boolean handedOn;

    private TestServer(Map<String, String> overrides, ClusterSettings cluster) {
        this.overrides = overrides;
        this.cluster = cluster;
        Config config = ConfigLoader.load(Optional.empty(), Map.of(), overrides);
        this.server = CourierServer.start(config, cluster);
        this.issuer = new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()));
    }

    /** A server with a fresh data directory; {@code extra} are property overrides. */
    public static TestServer start(Map<String, String> extra) {
        return start(extra, null);
    }

    /** A node of a cluster over {@code cluster}'s NATS (null: a single node). */
    public static TestServer start(Map<String, String> extra, ClusterSettings cluster) {
        try {
            return new TestServer(TestConfig.overrides(Files.createTempDirectory("courier-test"), extra), cluster);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TestServer start() {
        return start(Map.of());
    }

    /** A new server on the same data directory and settings (to test what survives a restart). */
    public TestServer restart() {
        server.close();
        handedOn = true;
        return new TestServer(overrides, cluster);
    }

    @Override
    public CourierServer server() {
        return server;
    }

    @Override
    protected TokenIssuer issuer() {
        return issuer;
    }

    @Override
    public void close() {
        server.close();
        if (!handedOn) {
            deleteTree(Path.of(overrides.get("courier.data.dir")));
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory is harmless
        }
    }
}
