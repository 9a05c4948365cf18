package io.courier.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Await;
import io.courier.testing.HttpWire;
import io.courier.testing.PrometheusText;
import io.courier.testing.TestServer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Connection limits at accept, over real sockets: a connection past the total or per-address limit
 * is closed before it is answered, the refusal is counted, and a slot freed by a close is reused.
 * 127.0.0.1 and 127.0.0.2 stand for two client machines (both loopback on Linux).
 */
class ConnectionLimitsIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    private static final InetAddress FIRST = loopback("127.0.0.1");
    private static final InetAddress SECOND = loopback("127.0.0.2");

    private final List<HttpWire> held = new ArrayList<>();

    @AfterEach
    void closeHeld() {
        held.forEach(HttpWire::close);
    }

    @Test
    void connectionPastTheTotalLimitIsClosedWithoutAnAnswerUntilOneCloses() {
        try (TestServer server = TestServer.start(Map.of("courier.max.connections", "3"))) {
            for (int i = 0; i < 3; i++) {
                held.add(answered(server, FIRST));
            }
            try (HttpWire fourth = new HttpWire(server.port(), WAIT, FIRST)) {
                fourth.send(HEALTHZ);
                assertEquals(Optional.empty(), fourth.readOrClosed(), "the fourth connection is closed, unanswered");
            }
            assertEquals(1, refused(server, "max_connections"), "the refusal is counted");
            assertEquals(0, refused(server, "max_connections_per_address"));

            held.remove(0).close();
            Await.until(
                    () -> tryAnswered(server, FIRST), WAIT, "a new connection gets in once one of the three closed");
        }
    }

    @Test
    void connectionPastThePerAddressLimitIsClosedWhileAnotherAddressGetsIn() {
        try (TestServer server = TestServer.start(Map.of("courier.max.connections.per.address", "2"))) {
            held.add(answered(server, FIRST));
            held.add(answered(server, FIRST));
            try (HttpWire third = new HttpWire(server.port(), WAIT, FIRST)) {
                third.send(HEALTHZ);
                assertEquals(
                        Optional.empty(),
                        third.readOrClosed(),
                        "a third connection from 127.0.0.1 is closed, unanswered");
            }
            held.add(answered(server, SECOND));
            held.add(answered(server, SECOND));
            assertEquals(1, refused(server, "max_connections_per_address"), "the refusal is counted");
            assertEquals(0, refused(server, "max_connections"));

            held.remove(0).close();
            Await.until(
                    () -> tryAnswered(server, FIRST),
                    WAIT,
                    "127.0.0.1 gets in again once one of its connections closed");
        }
    }

    /**
     * A flood of connections past the limit costs the admitted ones nothing: each is refused and
     * counted exactly once, and every held connection still answers afterwards. The elapsed time is
     * printed for docs/reliability.md, not asserted.
     */
    @Test
    void floodPastTheLimitIsRefusedOneByOneWhileAdmittedConnectionsAreServed() {
        int limit = 50;
        int flood = 2_000;
        try (TestServer server = TestServer.start(Map.of("courier.max.connections", Integer.toString(limit)))) {
            for (int i = 0; i < limit; i++) {
                held.add(answered(server, FIRST));
            }
            long start = System.nanoTime();
            for (int i = 0; i < flood; i++) {
                try (HttpWire refused = new HttpWire(server.port(), WAIT, FIRST)) {
                    assertEquals(Optional.empty(), refused.readOrClosed(), "attempt " + i + " is closed unanswered");
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(flood, refused(server, "max_connections"), "each refusal counted once");
            for (HttpWire wire : held) {
                wire.send(HEALTHZ);
                assertEquals(200, wire.read().status(), "an admitted connection is still served");
            }
            System.out.printf(
                    "connection limit: %d connections refused at accept in %d ms (%.0f/s, connect to EOF, one client thread)%n",
                    flood, millis, flood * 1000.0 / Math.max(1, millis));
        }
    }

    /** A connection from {@code local} that the server answers; fails otherwise. */
    private static HttpWire answered(TestServer server, InetAddress local) {
        HttpWire wire = new HttpWire(server.port(), WAIT, local);
        wire.send(HEALTHZ);
        Optional<HttpWire.Response> r = wire.readOrClosed();
        assertTrue(r.isPresent(), "connection from " + local.getHostAddress() + " was closed unanswered");
        assertEquals(200, r.get().status(), r.get().toString());
        return wire;
    }

    private boolean tryAnswered(TestServer server, InetAddress local) {
        HttpWire wire = new HttpWire(server.port(), WAIT, local);
        wire.send(HEALTHZ);
        if (wire.readOrClosed().isPresent()) {
            held.add(wire);
            return true;
        }
        wire.close();
        return false;
    }

    /** Read in-process: at the limit, a scrape over HTTP would itself be refused. */
    private static double refused(TestServer server, String reason) {
        return PrometheusText.value(
                server.server().metrics().registry().scrape(),
                "courier_connections_refused_total{reason=\"" + reason + "\"}");
    }

    private static InetAddress loopback(String address) {
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
