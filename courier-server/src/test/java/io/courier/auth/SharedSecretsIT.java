package io.courier.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.JsonField;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import io.courier.testing.WsWire;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nodes that share {@code courier.key.secret} and {@code courier.jwt.secret} accept each other's
 * signed keys and bearer tokens, each on its own database (a key needs only the secret), and a node
 * rolled to a new secret still accepts the previous one. Three servers:
 * <pre>
 *   a, b      key secret S,  JWT secret J
 *   rolled    key secret S2 (previous S), JWT secret J2 (previous J)
 * </pre>
 */
class SharedSecretsIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String S = "connection-key-secret-shared-by-all-nodes-01";
    private static final String S2 = "connection-key-secret-after-the-rotation-02";
    private static final String J = "jwt-secret-shared-by-every-node-of-the-cluster-01";
    private static final String J2 = "jwt-secret-after-the-rotation-of-the-cluster-02";

    private static TestServer a;
    private static TestServer b;
    private static TestServer rolled;

    @BeforeAll
    static void start() {
        a = TestServer.start(Map.of("courier.key.secret", S, "courier.jwt.secret", J));
        b = TestServer.start(Map.of("courier.key.secret", S, "courier.jwt.secret", J));
        rolled = TestServer.start(Map.of(
                "courier.key.secret", S2,
                "courier.key.secret.previous", S,
                "courier.jwt.secret", J2,
                "courier.jwt.secret.previous", J));
    }

    @AfterAll
    static void stop() {
        for (TestServer server : new TestServer[] {a, b, rolled}) {
            if (server != null) {
                server.close();
            }
        }
    }

    @Test
    void keySignedOnOneNodeOpensASocketOnAnotherWithTheSameSecret() {
        String audience = TestServer.uniqueAudience();
        String key = a.sign(a.setUp(audience));
        try (WsClient client = WsClient.connect(b.http(), b.wsUrl(key))) {
            String first = client.next();
            assertEquals("connected", JsonField.get(first, "action"), first);
        }
    }

    @Test
    void keySignedWithThePreviousSecretIsAcceptedAndOneWithAnUnrelatedSecretIsRefused() {
        String audience = TestServer.uniqueAudience();
        String fromA = a.sign(a.setUp(audience));
        try (WsClient client = WsClient.connect(rolled.http(), rolled.wsUrl(fromA))) {
            String first = client.next();
            assertEquals("connected", JsonField.get(first, "action"), first);
        }
        // The rolled node signs with S2, which a has never heard of.
        String fromRolled = rolled.sign(rolled.setUp(audience));
        assertEquals(401, upgradeStatus(a, fromRolled), "a key of an unrelated secret");
        assertEquals(101, upgradeStatus(rolled, fromRolled));
    }

    @Test
    void bearerTokenOfThePreviousJwtSecretIsAcceptedAndOneOfAnUnrelatedSecretIsRefused() {
        String audience = TestServer.uniqueAudience();
        String signedWithJ = a.token(audience);
        String signedWithJ2 = rolled.token(audience);

        assertEquals(201, b.post("/v1/audience", signedWithJ, "").statusCode(), "same secret on b");
        assertEquals(201, rolled.post("/v1/audience", signedWithJ, "").statusCode(), "previous secret on rolled");
        var refused = a.post("/v1/audience", signedWithJ2, "");
        assertEquals(401, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("ETOKEN_INVALID"), refused.body());
    }

    /** The status of an upgrade with {@code key}; 401 for a refused key. */
    private static int upgradeStatus(TestServer server, String key) {
        try (WsWire wire = WsWire.connect(server.port(), WAIT)) {
            String head = wire.upgrade("/ws?token=" + key);
            return Integer.parseInt(head.substring("HTTP/1.1 ".length(), "HTTP/1.1 ".length() + 3));
        }
    }
}
