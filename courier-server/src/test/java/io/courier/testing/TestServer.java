package io.courier.testing;

import io.courier.CourierServer;
import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.cluster.ClusterSettings;
import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
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

    /**
     * A server whose {@code /v1/sign} hands out a URL that reaches it ({@code courier.ws.url} on its
     * own loopback port), for clients that follow that URL as applications do (courier.js), and whose
     * {@link #restart} comes back on the same port. The port is found free by binding port 0 just
     * before; another process could take it in between, which on loopback in a test run does not
     * happen in practice.
     */
    public static TestServer startReachable(Map<String, String> extra) {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> settings = new HashMap<>(extra);
        settings.put("courier.port", String.valueOf(port));
        settings.put("courier.ws.url", "ws://127.0.0.1:" + port + "/ws");
        return start(settings);
    }

    /**
     * A new server on the same data directory and settings (to test what survives a restart); with a
     * fixed port ({@link #startReachable}) on that port again, retried while the old socket lingers.
     */
    public TestServer restart() {
        server.close();
        handedOn = true;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return new TestServer(overrides, cluster);
            } catch (RuntimeException e) {
                if (!isBindFailure(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                pause(); // a retry interval, bounded by the deadline above
            }
        }
    }

    /** Epoll reports a taken port as a NativeIoException, NIO as a BindException. */
    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
