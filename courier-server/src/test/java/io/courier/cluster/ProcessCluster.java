package io.courier.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import io.courier.testing.Await;
import io.courier.testing.HttpWire;
import io.courier.testing.NatsServer;
import io.courier.testing.PrometheusText;
import io.courier.testing.RemoteApi;
import io.courier.testing.ServerProcess;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Courier nodes as operators run them, each in its own JVM ({@link ServerProcess}), configured by
 * the environment only: one NATS of the test's own ({@code COURIER_CLUSTER_NATS_URL}), one
 * PostgreSQL namespace, and the secrets every node of a cluster shares ({@code COURIER_JWT_SECRET},
 * {@code COURIER_KEY_SECRET}); no shared data directory. Node {@code i} is {@code node<i+1>}, the
 * name HAProxy's derived configuration gives it. The catalogue is loaded at start (for now), so a
 * test creates its audiences and topics through node 1 before starting the others.
 */
final class ProcessCluster implements AutoCloseable {
    /** The connection-key secret every node shares (at least 32 bytes). */
    static final String KEY_SECRET = "cluster-test-connection-key-secret-0123456789";

    static final Duration UP_TIMEOUT = Duration.ofSeconds(20);

    final NatsServer nats;
    final String namespace = TestPostgres.freshNamespace("courier_pc_");
    private final Path dir;
    private final Map<String, String> common;
    private final List<ServerProcess> nodes = new ArrayList<>();
    private final List<ServerProcess> retired = new ArrayList<>();
    private final Map<Integer, Map<String, String>> extraByNode = new HashMap<>();
    private final boolean proxyProtocol;
    private final TokenIssuer issuer;
    private int generation;

    private ProcessCluster(Path dir, NatsServer nats, Map<String, String> extra) {
        this.dir = dir;
        this.nats = nats;
        Map<String, String> env = new HashMap<>();
        env.put("COURIER_DATABASE_URL", TestPostgres.url().orElseThrow());
        env.put("COURIER_DATABASE_NAMESPACE", namespace);
        env.put("COURIER_JWT_SECRET", TestServer.SECRET);
        env.put("COURIER_KEY_SECRET", KEY_SECRET);
        env.put("COURIER_CLUSTER_NATS_URL", nats.url());
        env.put("COURIER_SHUTDOWN_TIMEOUT_SECONDS", "2");
        env.putAll(extra);
        this.common = Map.copyOf(env);
        this.proxyProtocol = "true".equals(env.get("COURIER_PROXY_PROTOCOL"));
        Config config = ConfigLoader.load(
                Optional.empty(),
                Map.of(),
                Map.of("courier.jwt.secret", TestServer.SECRET, "courier.data.dir", dir.toString()));
        this.issuer = new TokenIssuer(JwtKeys.load(config.jwt(), config.dataDir()));
    }

    /** Skips when PostgreSQL is not configured (cluster mode refuses H2). {@code extra}: env for every node. */
    static ProcessCluster start(Path dir, Map<String, String> extra) {
        assumeTrue(TestPostgres.url().isPresent(), TestPostgres.skipReason());
        return new ProcessCluster(dir, NatsServer.start(), extra);
    }

    /** Starts the next node (its own data directory) and waits until it reports {@code "cluster":"up"}. */
    ServerProcess startNode(Map<String, String> extra) {
        int index = nodes.size();
        extraByNode.put(index, extra);
        ServerProcess node = launch(index, Map.of());
        nodes.add(node);
        return node;
    }

    /** A new process for node {@code index} on the port the old one had, after the old one exited. */
    ServerProcess restart(int index) {
        ServerProcess old = nodes.get(index);
        ServerProcess node = launch(index, Map.of("COURIER_PORT", Integer.toString(old.port())));
        nodes.set(index, node);
        return node;
    }

    private ServerProcess launch(int index, Map<String, String> more) {
        String name = "node" + (index + 1);
        Map<String, String> env = new HashMap<>(common);
        env.put("COURIER_CLUSTER_NODE_ID", name);
        env.put("COURIER_DATA_DIR", dir.resolve(name + "-data-" + generation).toString());
        env.putAll(extraByNode.getOrDefault(index, Map.of()));
        env.putAll(more);
        ServerProcess node = ServerProcess.start(env, dir.resolve(name + "-" + generation++ + ".log"));
        retired.add(node);
        Await.until(() -> readyz(node).contains("\"cluster\":\"up\""), UP_TIMEOUT, name + " reports cluster up");
        return node;
    }

    ServerProcess node(int index) {
        return nodes.get(index);
    }

    List<ServerProcess> nodes() {
        return List.copyOf(nodes);
    }

    RemoteApi api(int index) {
        return new RemoteApi(nodes.get(index).port(), TestServer.SECRET, dir);
    }

    String readyz(ServerProcess node) {
        try {
            return request(node, "GET", "/readyz", null, null).body();
        } catch (RuntimeException | AssertionError e) {
            return "unreachable: " + e;
        }
    }

    /** A one-hour token for {@code audience}, signed with the cluster's JWT secret. */
    String token(String audience) {
        return issuer.issue(audience, Optional.of("user-1"), Duration.ofHours(1));
    }

    /** Creates the audience and topics through node {@code index}; returns a token for the audience. */
    String setUp(int index, String audience, String... topics) {
        String token = token(audience);
        HttpWire.Response r = request(nodes.get(index), "POST", "/v1/audience", token, "");
        if (r.status() != 201) {
            throw new AssertionError("POST /v1/audience: " + r);
        }
        for (String topic : topics) {
            r = request(nodes.get(index), "POST", "/v1/topic", token, "{\"topic\":\"" + topic + "\"}");
            if (r.status() != 201) {
                throw new AssertionError("POST /v1/topic " + topic + ": " + r);
            }
        }
        return token;
    }

    /** The WebSockets {@code node} holds ({@code courier_connections}). */
    double connections(ServerProcess node) {
        HttpWire.Response r = request(node, "GET", "/metrics", null, null);
        if (r.status() != 200) {
            throw new AssertionError("GET /metrics: " + r);
        }
        return PrometheusText.value(r.body(), "courier_connections");
    }

    /**
     * One HTTP/1.1 request straight to {@code node} (not through a balancer), ASCII body, on a
     * connection of its own; with the PROXY protocol on, preceded by a v1 header as HAProxy's would.
     */
    HttpWire.Response request(ServerProcess node, String method, String path, String token, String body) {
        StringBuilder request = new StringBuilder();
        if (proxyProtocol) {
            request.append("PROXY TCP4 127.0.0.1 127.0.0.1 50000 ")
                    .append(node.port())
                    .append("\r\n");
        }
        request.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if (token != null) {
            request.append("Authorization: Bearer ").append(token).append("\r\n");
        }
        if (body != null) {
            request.append("Content-Type: application/json\r\nContent-Length: ")
                    .append(body.length())
                    .append("\r\n");
        }
        request.append("\r\n");
        if (body != null) {
            request.append(body);
        }
        try (HttpWire wire = new HttpWire(node.port(), Duration.ofSeconds(10))) {
            return wire.exchange(request.toString());
        }
    }

    @Override
    public void close() {
        for (ServerProcess node : retired) {
            node.close();
        }
        nats.close();
        TestPostgres.drop(namespace);
    }
}
