package io.courier.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** {@link JdbcStore} when the database is out of reach: it starts anyway, fails fast, and recovers. */
class JdbcStoreUnavailableTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);
    /** Generous bound for "about the timeout": slow CI machines, JIT warm-up. */
    private static final Duration FAST = TIMEOUT.plusSeconds(2);

    @Test
    void unreachablePostgresIsUnavailableQuickly() {
        // Port 1 refuses connections.
        Config.DatabaseConfig config = new Config.DatabaseConfig(
                "jdbc:postgresql://127.0.0.1:1/x?password=hunter2", "courier", "hunter2", false, "courier", 2, TIMEOUT);

        JdbcStore store = within(TIMEOUT.plusSeconds(5), () -> JdbcStore.open(config, null));
        try (store) {
            assertUnavailable(() -> store.createAudience("acme"));
            assertUnavailable(() -> store.findAudience("acme"));
            assertUnavailable(() -> store.createTopic("acme", "news", HistorySettings.NONE));
            assertUnavailable(() -> store.listTopics("acme"));
            assertUnavailable(store::allTopics);
            assertFalse(within(FAST, store::isReady));
            assertEquals("PostgreSQL 127.0.0.1:1/x", store.describe());
        }
    }

    @Test
    void storeOpenedWhileDatabaseIsDownRecoversAndMigrates(@TempDir Path dir) throws Exception {
        // H2 cannot create its file under a regular file: a database that is "down" until we fix it.
        // TRACE_LEVEL_FILE=0: H2 would otherwise print a stack trace per attempt for its unwritable trace file.
        Path blocker = Files.createFile(dir.resolve("blocker"));
        Config.DatabaseConfig config = new Config.DatabaseConfig(
                "jdbc:h2:file:" + blocker.resolve("courier") + ";DB_CLOSE_ON_EXIT=FALSE;TRACE_LEVEL_FILE=0",
                "sa",
                "",
                true,
                "courier",
                2,
                TIMEOUT);

        try (JdbcStore store = within(TIMEOUT.plusSeconds(5), () -> JdbcStore.open(config, null))) {
            assertUnavailable(() -> store.createAudience("acme"));
            assertFalse(store.isReady());

            Files.delete(blocker);
            Files.createDirectory(blocker);

            assertTrue(
                    eventually(Duration.ofSeconds(30), store::isReady),
                    "store should recover once the database is back");
            assertTrue(store.createAudience("acme").created());
            assertEquals("acme", store.findAudience("acme").orElseThrow().name());
        }
    }

    private static void assertUnavailable(Executable call) {
        long start = System.nanoTime();
        CourierException e = assertThrows(CourierException.class, call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertEquals(ErrorCode.EDB_UNAVAILABLE, e.code());
        assertTrue(took.compareTo(FAST) < 0, "took " + took + " (expected: under " + FAST + ")");
    }

    private static <T> T within(Duration limit, Supplier<T> call) {
        long start = System.nanoTime();
        T result = call.get();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(limit) < 0, "took " + took + " (expected: under " + limit + ")");
        return result;
    }

    /** Polls until {@code condition} holds or the deadline passes; each poll is itself bounded by the store timeout. */
    private static boolean eventually(Duration deadline, Supplier<Boolean> condition) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (System.nanoTime() < end) {
            if (condition.get()) {
                return true;
            }
            Thread.sleep(50); // pacing between polls, not synchronisation
        }
        return false;
    }
}
