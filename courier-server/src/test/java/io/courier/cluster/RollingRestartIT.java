package io.courier.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.HaProxy;
import io.courier.testing.JsonField;
import io.courier.testing.RemoteApi;
import io.courier.testing.ServerProcess;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling restart of three cluster nodes (each in its own JVM, see {@link ProcessCluster}) behind
 * Debian's HAProxy with the shipped configuration (PROXY protocol on), its health checks every
 * 500 ms instead of 2 s so the test stays short: each node in turn gets SIGTERM, turns {@code
 * /readyz} to 503 for its drain grace (4 s, more than HAProxy's inter x fall = 1 s plus a check),
 * then closes its sockets with 1001 spread over 2 s, and a new process starts on its port. A
 * publisher sends numbered hook publishes through HAProxy all along.
 */
class RollingRestartIT {
    private static final String TOPIC = "rolling/restart";
    private static final int CLIENTS = 6;
    private static final Duration STATE_CHANGE = Duration.ofSeconds(20);
    private static final Pattern SEQ = Pattern.compile("\"message\":\\{\"seq\":(\\d+)}}$");

    @TempDir
    Path dir;

    private final String audience = TestServer.uniqueAudience();

    /**
     * Asserts, for every socket any client held (from its subscribe ack to its close or the end):
     * no sequence number twice and no gap, i.e. every publish
     * started after the ack and acknowledged with 200 arrived up to the last one the socket saw (a
     * socket still open at the end: up to a final marker). A socket open through another node's
     * restart therefore missed nothing. Also: HAProxy marks each draining node DOWN before any of its
     * sockets is closed, a connection made after that lands elsewhere and survives the restart, and
     * the draining node's clients get 1001 and resubscribe through HAProxy.
     */
    @Test
    void nodesRestartOneByOneWithoutLossForConnectedClients() throws Exception {
        HaProxy.binary(); // fails, never skips, when HAProxy is missing
        int balancerPort = HaProxy.freePort();
        try (ProcessCluster cluster = ProcessCluster.start(
                dir,
                Map.of(
                        "COURIER_WS_URL", "ws://127.0.0.1:" + balancerPort + "/ws",
                        "COURIER_PROXY_PROTOCOL", "true",
                        "COURIER_SHUTDOWN_DRAIN_GRACE_SECONDS", "4",
                        "COURIER_SHUTDOWN_CLOSE_SPREAD_SECONDS", "2",
                        "COURIER_SHUTDOWN_TIMEOUT_SECONDS", "10"))) {
            cluster.startNode(Map.of());
            String token = cluster.setUp(0, audience, TOPIC);
            cluster.startNode(Map.of());
            cluster.startNode(Map.of());
            List<Integer> ports =
                    cluster.nodes().stream().map(ServerProcess::port).toList();
            try (HaProxy haProxy = HaProxy.start(dir.resolve("haproxy"), balancerPort, ports, true, "500ms")) {
                for (int n = 0; n < 3; n++) {
                    haProxy.awaitState(HaProxy.serverName(n), "UP", STATE_CHANGE);
                }
                RemoteApi api = new RemoteApi(haProxy.port(), TestServer.SECRET, dir);
                Publisher publisher = new Publisher(api, token);
                List<Segment> live = new ArrayList<>();
                List<Segment> ended = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    live.add(Segment.open(api, token, balancerPort, publisher));
                }
                Thread publishing = new Thread(publisher, "rolling-restart-publisher");
                publishing.start();
                try {
                    awaitProgress(publisher, 20);
                    for (int n = 0; n < 3; n++) {
                        restartThroughHaProxy(cluster, haProxy, n, api, token, balancerPort, publisher, live, ended);
                        awaitProgress(publisher, 20);
                    }
                } finally {
                    publisher.running.set(false);
                    publishing.join(TimeUnit.SECONDS.toMillis(30));
                }
                int marker = publisher.publishOne();
                assertTrue(publisher.ok.contains(marker), "the final marker publish was accepted");
                for (Segment s : live) {
                    s.readThrough(marker);
                }
                for (Segment s : ended) {
                    s.readRest();
                }
                int checkedSpanningARestart = 0;
                for (Segment s : ended) {
                    s.assertNoLossWhileConnected(publisher.ok, -1);
                }
                for (Segment s : live) {
                    s.assertNoLossWhileConnected(publisher.ok, marker);
                    checkedSpanningARestart += s.spannedRestarts > 0 ? 1 : 0;
                    s.client.close();
                }
                assertTrue(checkedSpanningARestart > 0, "some socket stayed open through another node's restart");
                System.out.printf(
                        "rolling restart: %d publishes accepted, %d refused or failed, %d sockets checked%n",
                        publisher.ok.size(), publisher.failed.get(), live.size() + ended.size());
            }
        }
    }

    private static void restartThroughHaProxy(
            ProcessCluster cluster,
            HaProxy haProxy,
            int n,
            RemoteApi api,
            String token,
            int balancerPort,
            Publisher publisher,
            List<Segment> live,
            List<Segment> ended)
            throws Exception {
        String name = HaProxy.serverName(n);
        ServerProcess node = cluster.node(n);
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(node::stop);
        haProxy.awaitState(name, "DOWN", STATE_CHANGE);
        for (Segment s : live) {
            assertFalse(s.client.isClosed(), "a socket closed before HAProxy marked " + name + " DOWN");
        }
        // HAProxy sends nothing new to the draining node: this connection survives its restart.
        Segment probe = Segment.open(api, token, balancerPort, publisher);
        stopped.get(60, TimeUnit.SECONDS);
        assertTrue(node.log().contains("courier stopped"), name + " stops gracefully on SIGTERM:\n" + node.log());
        assertFalse(probe.client.isClosed(), "a connection made after " + name + " was DOWN landed on it");
        List<Segment> moved = new ArrayList<>();
        for (Segment s : live) {
            if (s.client.isClosed()) {
                assertEquals(1001, s.client.closeCode(), "the draining node closes with 1001 (going away)");
                moved.add(s);
            } else {
                s.spannedRestarts++;
            }
        }
        assertFalse(moved.isEmpty(), name + " held none of the clients (leastconn spreads them)");
        live.removeAll(moved);
        ended.addAll(moved);
        live.add(probe);
        for (int i = 0; i < moved.size(); i++) {
            live.add(Segment.reconnectWithBackOff(api, token, balancerPort, publisher));
        }
        cluster.restart(n);
        haProxy.awaitState(name, "UP", STATE_CHANGE);
    }

    private static void awaitProgress(Publisher publisher, int more) {
        int target = publisher.ok.size() + more;
        Await.until(() -> publisher.ok.size() >= target, Duration.ofSeconds(30), "the publisher makes progress");
    }

    /** Numbered hook publishes through HAProxy, one at a time, paced (about 200 a second at most). */
    private static final class Publisher implements Runnable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final NavigableSet<Integer> ok = new ConcurrentSkipListSet<>();
        final AtomicInteger failed = new AtomicInteger();
        private final AtomicInteger next = new AtomicInteger();
        private final RemoteApi api;
        private final String token;

        Publisher(RemoteApi api, String token) {
            this.api = api;
            this.token = token;
        }

        /** The sequence number the next publish will carry; every later publish starts after this call. */
        int next() {
            return next.get();
        }

        @Override
        public void run() {
            while (running.get()) {
                publishOne();
                try {
                    Thread.sleep(5); // pacing the load, not synchronisation
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        int publishOne() {
            int seq = next.getAndIncrement();
            try {
                HttpResponse<String> r = api.post(
                        "/v1/hook",
                        token,
                        "{\"action\":\"publish\",\"topic\":\"" + TOPIC + "\",\"message\":{\"seq\":" + seq + "}}");
                if (r.statusCode() == 200) {
                    ok.add(seq);
                } else {
                    failed.incrementAndGet();
                }
            } catch (UncheckedIOException e) {
                failed.incrementAndGet(); // a request cut by a node's exit: it may or may not have been published
            }
            return seq;
        }
    }

    /** One socket of a client, from its subscribe ack on: what it received. */
    private static final class Segment {
        final WsClient client;
        /** The publisher's next sequence number right after the ack: every publish from it on must arrive. */
        final int from;

        final List<Integer> received = new ArrayList<>();
        int spannedRestarts;

        private Segment(WsClient client, int from) {
            this.client = client;
            this.from = from;
        }

        static Segment open(RemoteApi api, String token, int balancerPort, Publisher publisher) {
            String key = api.sign(token);
            WsClient client = WsClient.connect(api.http(), "ws://127.0.0.1:" + balancerPort + "/ws?token=" + key);
            try {
                assertEquals("connected", JsonField.get(client.next(), "action"));
                client.send("{\"action\":\"subscribe\",\"topic\":\"" + TOPIC + "\",\"id\":1}");
                // A publish may be delivered between the local subscription and its ack: keep it.
                List<Integer> early = new ArrayList<>();
                for (String frame = client.next();
                        !frame.equals("{\"action\":\"ack\",\"id\":1}");
                        frame = client.next()) {
                    early.add(seq(frame));
                }
                Segment segment = new Segment(client, publisher.next());
                segment.received.addAll(early);
                return segment;
            } catch (RuntimeException | AssertionError e) {
                client.close();
                throw e;
            }
        }

        /** What a browser client does on 1001: reconnect through the balancer with back-off (100 ms doubling to 2 s) for at most 30 s. */
        static Segment reconnectWithBackOff(RemoteApi api, String token, int balancerPort, Publisher publisher) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long backOffMillis = 100;
            List<Throwable> failures = new ArrayList<>();
            while (System.nanoTime() < deadline) {
                try {
                    return open(api, token, balancerPort, publisher);
                } catch (AssertionError | RuntimeException e) {
                    failures.add(e);
                }
                try {
                    Thread.sleep(backOffMillis); // the client's back-off, not synchronisation
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                backOffMillis = Math.min(backOffMillis * 2, 2000);
            }
            throw new AssertionError("no reconnect through haproxy within 30 s; failures: " + failures);
        }

        /** Takes frames until the one carrying {@code marker}. */
        void readThrough(int marker) {
            while (received.isEmpty() || received.get(received.size() - 1) != marker) {
                received.add(seq(client.next()));
            }
        }

        /** Takes what a closed socket had queued. */
        void readRest() {
            for (String frame = client.poll(Duration.ZERO); frame != null; frame = client.poll(Duration.ZERO)) {
                received.add(seq(frame));
            }
        }

        /** {@code last}: the sequence up to which nothing may be missing; -1 for the last one received. */
        void assertNoLossWhileConnected(NavigableSet<Integer> accepted, int last) {
            // Consecutive hook calls may go to different nodes, which makes them different publishers:
            // order holds per publishing node only (ClusterFanoutIT), so this checks once and complete.
            assertEquals(received.size(), new HashSet<>(received).size(), "a duplicate: " + received);
            int upTo = last >= 0
                    ? last
                    : received.stream().mapToInt(Integer::intValue).max().orElse(-1);
            if (upTo < from) {
                return;
            }
            List<Integer> missing = new ArrayList<>(accepted.subSet(from, true, upTo, true));
            missing.removeAll(new HashSet<>(received));
            assertEquals(List.of(), missing, "accepted publishes missed by a socket subscribed before them");
        }

        private static int seq(String frame) {
            Matcher m = SEQ.matcher(frame);
            assertTrue(m.find(), frame);
            return Integer.parseInt(m.group(1));
        }
    }
}
