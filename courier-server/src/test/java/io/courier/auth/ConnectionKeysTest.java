package io.courier.auth;

import static io.courier.auth.TestTokens.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.Base64URL;
import io.courier.config.Config;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnectionKeysTest {
    private static final Principal ALICE = new Principal("acme-audience", Optional.of("alice-subject-42"));

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(NOW);

    private ConnectionKeys keys(Path dataDir) {
        return ConnectionKeys.load(dataDir, Duration.ofSeconds(60), clock);
    }

    private static String refusal(ConnectionKeys keys, String key) {
        CourierException e = assertThrows(CourierException.class, () -> keys.verify(key));
        assertEquals(ErrorCode.ETOKEN_INVALID, e.code());
        return e.getMessage();
    }

    @Test
    void roundTripKeepsAudienceAndSubject() {
        ConnectionKeys keys = keys(dir);
        assertEquals(ALICE, keys.verify(keys.sign(ALICE)));
        assertEquals(Optional.empty(), keys.verify(keys.sign(ALICE)).expiresAt(), "no expiry in, none out");
        Principal anonymous = new Principal("acme-audience", Optional.empty());
        assertEquals(anonymous, keys.verify(keys.sign(anonymous)));
    }

    @Test
    void signRefusesNamesThatWouldBeReplacedInsteadOfEncodingThemAsQuestionMarks() {
        ConnectionKeys keys = keys(dir);
        // Before issue 10 this key verified as audience "tenant?", another tenant's name.
        assertThrows(IllegalArgumentException.class, () -> keys.sign(new Principal("tenant\ud800", Optional.empty())));
        assertThrows(
                IllegalArgumentException.class, () -> keys.sign(new Principal("tenant", Optional.of("\udc00user"))));
        assertThrows(IllegalArgumentException.class, () -> keys.sign(new Principal("ten\u0000ant", Optional.empty())));
    }

    @Test
    void astralNamesSurviveTheKeyExactly() {
        ConnectionKeys keys = keys(dir);
        Principal astral = new Principal("tenant-\ud83d\ude00", Optional.of("\ud834\udd1e"));
        assertEquals(astral, keys.verify(keys.sign(astral)));
    }

    @Test
    void bearerExpiryTravelsThroughTheKey() {
        // What lets a socket opened with the key be closed when the bearer token it came from expires.
        var config = TestTokens.secretConfig(TestTokens.SECRET, "", Optional.empty());
        Principal fromBearer = new TokenVerifier(JwtKeys.load(config, dir), config, TestTokens.CLOCK)
                .verify(TestTokens.hs256(TestTokens.validClaims()
                        .expirationTime(Date.from(NOW.plusSeconds(600)))
                        .build()));
        assertEquals(Optional.of(NOW.plusSeconds(600)), fromBearer.expiresAt());

        ConnectionKeys keys = keys(dir);
        assertEquals(fromBearer, keys.verify(keys.sign(fromBearer)));
    }

    @Test
    void bearerExpirySoonerThanTheKeysOwnIsKeptAndDoesNotShortenTheKey() {
        ConnectionKeys keys = keys(dir);
        Principal expiringSoon = new Principal("acme-audience", Optional.empty(), Optional.of(NOW.plusSeconds(10)));
        String key = keys.sign(expiringSoon);
        clock.advance(Duration.ofSeconds(30));
        assertEquals(
                expiringSoon,
                keys.verify(key),
                "the key lives its ttl; closing the socket at expiresAt is the socket's job");
    }

    @Test
    void keyIsUrlSafeAndReusableUntilExpiry() {
        ConnectionKeys keys = keys(dir);
        String key = keys.sign(ALICE);
        assertTrue(key.matches("[A-Za-z0-9._-]+"), key);
        clock.advance(Duration.ofSeconds(59));
        assertEquals(ALICE, keys.verify(key));
        assertEquals(ALICE, keys.verify(key));
    }

    @Test
    void expiredKeyIsRefused() {
        ConnectionKeys keys = ConnectionKeys.load(dir, Duration.ofSeconds(1), clock);
        String key = keys.sign(ALICE);
        clock.advance(Duration.ofSeconds(2));
        assertEquals("connection key expired", refusal(keys, key));
    }

    @Test
    void tamperedKeyIsInvalid() {
        ConnectionKeys keys = keys(dir);
        String key = keys.sign(ALICE);
        int middle = key.length() / 2;
        while (key.charAt(middle) == '.') {
            middle++;
        }
        char flipped = key.charAt(middle) == 'A' ? 'B' : 'A';
        String tampered = key.substring(0, middle) + flipped + key.substring(middle + 1);
        assertNotEquals(key, tampered);
        assertEquals("connection key invalid", refusal(keys, tampered));
    }

    @Test
    void missingOrGarbageKeyIsRefused() {
        ConnectionKeys keys = keys(dir);
        assertEquals("connection key missing", refusal(keys, null));
        assertEquals("connection key missing", refusal(keys, ""));
        assertEquals("connection key invalid", refusal(keys, "not-a-key"));
        assertEquals("connection key invalid", refusal(keys, TestTokens.hs256Token(TestTokens.SECRET)));
    }

    @Test
    void hostileJweHeaderIsAnInvalidKey() {
        // Nimbus throws NullPointerException or IllegalArgumentException on these instead of ParseException.
        ConnectionKeys keys = keys(dir);
        String real = keys.sign(ALICE);
        String rest = real.substring(real.indexOf('.'));
        for (String header : List.of(
                "null",
                "{}",
                "[]",
                "{\"alg\":\"dir\"}",
                "{\"alg\":\"dir\",\"enc\":null}",
                "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"epk\":null}",
                "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"authTag\":null}")) {
            String encoded =
                    Base64URL.encode(header.getBytes(StandardCharsets.UTF_8)).toString();
            assertEquals("connection key invalid", refusal(keys, encoded + rest), header);
            assertEquals("connection key invalid", refusal(keys, encoded + "...."), header);
        }
    }

    @Test
    void keyFromAnotherDataDirIsRefused() {
        String key = keys(dir.resolve("a")).sign(ALICE);
        assertEquals("connection key invalid", refusal(keys(dir.resolve("b")), key));
    }

    @Test
    void keySurvivesReloadOfSameDataDir() throws Exception {
        String key = keys(dir).sign(ALICE);
        assertEquals(ALICE, keys(dir).verify(key));
        Path file = dir.resolve("connection-key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(32, new Base64URL(Files.readString(file)).decode().length);
    }

    @Test
    void serversStartingTogetherOnEmptyDataDirAgree() throws Exception {
        Path shared = dir.resolve("shared");
        int servers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(servers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<ConnectionKeys>> loads = new ArrayList<>();
            for (int i = 0; i < servers; i++) {
                loads.add(pool.submit(() -> {
                    start.await();
                    return keys(shared);
                }));
            }
            start.countDown();
            String key = loads.get(0).get(5, TimeUnit.SECONDS).sign(ALICE);
            for (Future<ConnectionKeys> load : loads) {
                assertEquals(ALICE, load.get(5, TimeUnit.SECONDS).verify(key));
            }
        } finally {
            pool.shutdownNow();
        }
        try (var files = Files.list(shared)) {
            assertEquals(List.of(shared.resolve("connection-key")), files.toList(), "no temporary files left behind");
        }
    }

    @Test
    void keyRevealsNeitherBearerTokenNorClaims() {
        var config = TestTokens.secretConfig(TestTokens.SECRET, "", Optional.empty());
        String bearer = TestTokens.hs256Token(TestTokens.SECRET);
        Principal principal = new TokenVerifier(JwtKeys.load(config, dir), config, TestTokens.CLOCK).verify(bearer);
        String key = keys(dir).sign(principal);

        assertFalse(key.contains(bearer));
        assertFalse(key.contains(bearer.substring(bearer.lastIndexOf('.') + 1)), "bearer signature");
        for (String part : key.split("\\.")) {
            String decoded = new String(new Base64URL(part).decode(), StandardCharsets.ISO_8859_1);
            assertFalse(decoded.contains(principal.audience()), "audience readable in " + decoded);
            assertFalse(decoded.contains(principal.subject().orElseThrow()), "subject readable in " + decoded);
        }
        assertFalse(key.contains(principal.audience()));
    }

    @Test
    void ttlIsReported() {
        assertEquals(Duration.ofSeconds(60), keys(dir).ttl());
    }
    // ---------------------------------------------------------------- configured secrets (cluster)

    private static final String SHARED = "connection-key-secret-shared-by-all-nodes-01";
    private static final String OLD = "connection-key-secret-of-the-last-rotation-02";

    private ConnectionKeys configured(Path dataDir, String secret, Optional<String> previous) {
        return ConnectionKeys.load(
                new Config.KeyConfig(Optional.of(secret), previous), dataDir, Duration.ofSeconds(60), clock);
    }

    @Test
    void nodesSharingASecretOpenEachOthersKeysWithoutADataDirectoryKey() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        ConnectionKeys nodeA = configured(a, SHARED, Optional.empty());
        ConnectionKeys nodeB = configured(b, SHARED, Optional.empty());

        assertEquals(ALICE, nodeB.verify(nodeA.sign(ALICE)));
        assertFalse(Files.exists(a.resolve(ConnectionKeys.KEY_FILE)), "a configured secret generates no key file");
        assertEquals("connection key invalid", refusal(keys(b), nodeA.sign(ALICE)), "the generated key differs");
        assertEquals("connection key invalid", refusal(nodeA, keys(b).sign(ALICE)));
    }

    @Test
    void previousSecretOpensKeysButNeverSignsThem() {
        ConnectionKeys old = configured(dir, OLD, Optional.empty());
        ConnectionKeys rolled = configured(dir, SHARED, Optional.of(OLD));
        ConnectionKeys unrelated = configured(dir, "connection-key-secret-nobody-else-knows-0003", Optional.empty());

        assertEquals(ALICE, rolled.verify(old.sign(ALICE)), "a key from a node not yet rolled");
        assertEquals(ALICE, rolled.verify(rolled.sign(ALICE)));
        assertEquals(
                "connection key invalid",
                refusal(old, rolled.sign(ALICE)),
                "the rolled node signs with the new secret");
        assertEquals("connection key invalid", refusal(rolled, unrelated.sign(ALICE)));
        String fromOld = old.sign(ALICE);
        clock.advance(Duration.ofSeconds(61));
        assertEquals("connection key expired", refusal(rolled, fromOld), "the previous secret does not extend a key");
    }

    @Test
    void derivedKeyIsTheSameForTheSameSecretAndDiffersOtherwise() {
        assertEquals(ConnectionKeys.derive(SHARED), ConnectionKeys.derive(SHARED));
        assertNotEquals(ConnectionKeys.derive(SHARED), ConnectionKeys.derive(OLD));
        assertEquals(32, ConnectionKeys.derive(SHARED).getEncoded().length);
    }
}
