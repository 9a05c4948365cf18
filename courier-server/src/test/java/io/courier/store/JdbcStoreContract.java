package io.courier.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JdbcStore} against a real database; one subclass per database: {@link H2JdbcStoreTest}
 * always, {@link PostgresJdbcStoreTest} when COURIER_TEST_DATABASE_URL is set. Subclasses rather
 * than {@code @ParameterizedClass}: surefire reports each invocation of a parameterized class under
 * the same class name and its XML report keeps the last, an empty container ("Tests run: 0").
 */
abstract class JdbcStoreContract {
    private static final int THREADS = 16;
    /** Shared by the PostgreSQL tests of this class; they keep apart by unique audience names. */
    private static String sharedNamespace;

    private final TestDatabase database;

    @TempDir
    Path dir;

    private Config.DatabaseConfig config;
    private JdbcStore store;

    JdbcStoreContract(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void open() {
        if (database.isPostgres() && sharedNamespace == null) {
            sharedNamespace = database.freshNamespace();
        }
        config = database.config(dir, database.isPostgres() ? sharedNamespace : "courier");
        store = JdbcStore.open(config, null);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @AfterAll
    static void dropNamespaces() throws Exception {
        TestDatabase.dropNamespaces();
    }

    // ---------------------------------------------------------------- audiences

    @Test
    void createAudienceIsIdempotent() {
        String name = unique("acme");
        Created<Audience> first = store.createAudience(name);
        Created<Audience> again = store.createAudience(name);

        assertTrue(first.created());
        assertFalse(again.created());
        // Equal including timestamps: proves they round-trip at the stored precision.
        assertEquals(first.value(), again.value());
        assertEquals(name, first.value().name());
        assertEquals(first.value().createdAt(), first.value().updatedAt());
    }

    @Test
    void findAudienceReturnsTheStoredRecord() {
        String name = unique("acme");
        Audience created = store.createAudience(name).value();

        assertEquals(Optional.of(created), store.findAudience(name));
    }

    @Test
    void findMissingAudienceIsEmpty() {
        assertEquals(Optional.empty(), store.findAudience(unique("nobody")));
    }

    @Test
    void audienceNamesAreCaseSensitive() {
        String name = unique("acme");
        store.createAudience(name);

        assertTrue(store.createAudience(name.toUpperCase()).created());
    }

    @Test
    void concurrentCreateAudienceCreatesExactlyOnce() throws Exception {
        String name = unique("race");
        List<Created<Audience>> results = concurrently(() -> store.createAudience(name));

        assertEquals(1, results.stream().filter(Created::created).count());
        Audience winner = results.get(0).value();
        results.forEach(r -> assertEquals(winner, r.value()));
    }

    // ---------------------------------------------------------------- topics

    @Test
    void createTopicReturnsTopicOfItsAudience() {
        Audience audience = store.createAudience(unique("acme")).value();
        Topic topic = store.createTopic(audience.name(), "news", HistorySettings.NONE);

        assertEquals("news", topic.name());
        assertEquals(audience.id(), topic.audienceId());
        assertEquals(audience.name(), topic.audience());
        assertNotNull(topic.id());
        assertEquals(topic.createdAt(), topic.updatedAt());
        assertEquals(List.of(topic), store.listTopics(audience.name()));
    }

    @Test
    void createTopicInMissingAudienceIsNotFound() {
        CourierException e = assertThrows(
                CourierException.class, () -> store.createTopic(unique("nobody"), "news", HistorySettings.NONE));
        assertEquals(ErrorCode.EAUD_NOTFOUND, e.code());
    }

    @Test
    void duplicateTopicIsConflict() {
        String audience = store.createAudience(unique("acme")).value().name();
        store.createTopic(audience, "news", HistorySettings.NONE);

        CourierException e =
                assertThrows(CourierException.class, () -> store.createTopic(audience, "news", HistorySettings.NONE));
        assertEquals(ErrorCode.ETOPIC_EXISTS, e.code());
        assertEquals(1, store.listTopics(audience).size());
    }

    @Test
    void concurrentCreateTopicSucceedsExactlyOnce() throws Exception {
        String audience = store.createAudience(unique("race")).value().name();
        List<Object> results = concurrently(() -> {
            try {
                return store.createTopic(audience, "news", HistorySettings.NONE);
            } catch (CourierException e) {
                return e.code();
            }
        });

        assertEquals(1, results.stream().filter(r -> r instanceof Topic).count());
        assertEquals(
                THREADS - 1,
                results.stream().filter(r -> r == ErrorCode.ETOPIC_EXISTS).count(),
                results::toString);
        assertEquals(1, store.listTopics(audience).size());
    }

    @Test
    void sameTopicNameInTwoAudiencesIsIndependent() {
        String a = store.createAudience(unique("a")).value().name();
        String b = store.createAudience(unique("b")).value().name();
        Topic inA = store.createTopic(a, "news", HistorySettings.NONE);
        Topic inB = store.createTopic(b, "news", HistorySettings.NONE);

        assertNotEquals(inA.id(), inB.id());
        assertEquals(List.of(inA), store.listTopics(a));
        assertEquals(List.of(inB), store.listTopics(b));
    }

    @Test
    void listTopicsIsOldestFirst() {
        String audience = store.createAudience(unique("acme")).value().name();
        // Not alphabetical, so the order can only come from creation time.
        List<Topic> created = new ArrayList<>();
        for (String name : List.of("sports", "alerts", "weather", "news")) {
            created.add(store.createTopic(audience, name, HistorySettings.NONE));
        }

        assertEquals(created, store.listTopics(audience));
    }

    @Test
    void listTopicsOfAudienceWithoutTopicsIsEmpty() {
        String audience = store.createAudience(unique("acme")).value().name();

        assertEquals(List.of(), store.listTopics(audience));
    }

    @Test
    void listTopicsOfMissingAudienceIsNotFound() {
        CourierException e = assertThrows(CourierException.class, () -> store.listTopics(unique("nobody")));
        assertEquals(ErrorCode.EAUD_NOTFOUND, e.code());
    }

    @Test
    void allTopicsCoversEveryAudience() {
        String a = store.createAudience(unique("a")).value().name();
        String b = store.createAudience(unique("b")).value().name();
        List<Topic> created = List.of(
                store.createTopic(a, "news", HistorySettings.NONE),
                store.createTopic(a, "sports", HistorySettings.NONE),
                store.createTopic(b, "news", HistorySettings.NONE));

        // On PostgreSQL the namespace also holds other tests' topics.
        List<Topic> all = store.allTopics();
        assertTrue(all.containsAll(created), () -> all + " should contain " + created);
    }

    // ---------------------------------------------------------------- lifecycle

    @Test
    void isReadyWhenDatabaseAnswers() {
        assertTrue(store.isReady());
    }

    @Test
    void dataSurvivesReopen() {
        Audience audience = store.createAudience(unique("acme")).value();
        Topic topic = store.createTopic(audience.name(), "news", HistorySettings.NONE);
        store.close();

        store = JdbcStore.open(config, null);
        assertEquals(Optional.of(audience), store.findAudience(audience.name()));
        assertEquals(List.of(topic), store.listTopics(audience.name()));
    }

    @Test
    void historySettingsAreKeptPerTopic() {
        String audience = store.createAudience(unique("acme")).value().name();
        HistorySettings kept = new HistorySettings(100, 300);
        Topic withHistory = store.createTopic(audience, "events", kept);
        Topic without = store.createTopic(audience, "plain", HistorySettings.NONE);

        assertEquals(kept, withHistory.history());
        assertEquals(Optional.of(withHistory), store.findTopic(audience, "events"));
        assertEquals(Optional.of(without), store.findTopic(audience, "plain"));
        assertEquals(List.of(withHistory, without), store.listTopics(audience));
        assertTrue(store.allTopics().contains(withHistory));
    }

    /**
     * A namespace as the release before history left it (schema version 2, with an audience and a
     * topic): opening the store migrates it, and the old topic keeps working, with no history.
     */
    @Test
    void migrationKeepsTopicsCreatedBeforeHistory() throws Exception {
        Config.DatabaseConfig old = database.config(dir.resolve("old"), database.freshNamespace());
        String ns = old.namespace();
        String audienceName = unique("acme");
        TestDatabase.execute(
                old,
                "CREATE SCHEMA IF NOT EXISTS " + ns,
                "CREATE TABLE " + ns + ".schema_version (version integer NOT NULL PRIMARY KEY,"
                        + " description varchar(255) NOT NULL, applied_at timestamp(6) with time zone NOT NULL)",
                "CREATE TABLE " + ns + ".audiences (id uuid NOT NULL PRIMARY KEY, name varchar(1020) NOT NULL,"
                        + " created_at timestamp(6) with time zone NOT NULL,"
                        + " updated_at timestamp(6) with time zone NOT NULL, CONSTRAINT audiences_name_key UNIQUE (name))",
                "CREATE TABLE " + ns + ".topics (id uuid NOT NULL PRIMARY KEY, audience_id uuid NOT NULL REFERENCES "
                        + ns + ".audiences (id), name varchar(1020) NOT NULL,"
                        + " created_at timestamp(6) with time zone NOT NULL,"
                        + " updated_at timestamp(6) with time zone NOT NULL,"
                        + " CONSTRAINT topics_audience_name_key UNIQUE (audience_id, name))",
                "INSERT INTO " + ns + ".schema_version VALUES (1, 'create audiences and topics', CURRENT_TIMESTAMP)",
                "INSERT INTO " + ns + ".schema_version VALUES (2, 'widen names', CURRENT_TIMESTAMP)",
                "INSERT INTO " + ns + ".audiences VALUES ('6f1c1d1e-0000-4000-8000-000000000001', '" + audienceName
                        + "', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO " + ns + ".topics VALUES ('6f1c1d1e-0000-4000-8000-000000000002',"
                        + " '6f1c1d1e-0000-4000-8000-000000000001', 'news', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)");

        try (JdbcStore migrated = JdbcStore.open(old, null)) {
            Topic news = migrated.findTopic(audienceName, "news").orElseThrow();
            assertEquals(HistorySettings.NONE, news.history());
            assertEquals(List.of(news), migrated.listTopics(audienceName));
            Topic events = migrated.createTopic(audienceName, "events", new HistorySettings(10, 60));
            assertEquals(Optional.of(events), migrated.findTopic(audienceName, "events"));
        }
        assertSchemaAtLatestVersion(old);
    }

    @Test
    void openingTwiceMigratesOnce() throws Exception {
        Config.DatabaseConfig fresh = database.config(dir.resolve("fresh"), database.freshNamespace());
        JdbcStore.open(fresh, null).close();
        try (JdbcStore second = JdbcStore.open(fresh, null)) {
            assertTrue(second.createAudience(unique("acme")).created());
        }

        assertSchemaAtLatestVersion(fresh);
    }

    @Test
    void concurrentOpensOfFreshNamespaceBothMigrate() throws Exception {
        Config.DatabaseConfig fresh = database.config(dir.resolve("fresh"), database.freshNamespace());
        String name = unique("acme");
        List<Created<Audience>> results = concurrently(2, () -> {
            try (JdbcStore s = JdbcStore.open(fresh, null)) {
                return s.createAudience(name);
            }
        });

        assertEquals(1, results.stream().filter(Created::created).count());
        assertSchemaAtLatestVersion(fresh);
    }

    @Test
    void metricsAppearInTheRegistry() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (JdbcStore measured = JdbcStore.open(config, registry)) {
            assertTrue(measured.isReady());
            assertNotNull(registry.find("hikaricp.connections").gauge(), () -> registry.getMetersAsString());
        }
    }

    @Test
    void describeNamesTheDatabaseWithoutSecrets() {
        String description = store.describe();
        if (database.isPostgres()) {
            assertTrue(description.matches("PostgreSQL [^ ?]+:\\d+/[^ ?]+"), description);
        } else {
            assertEquals("H2 file " + dir.resolve("courier") + ".mv.db", description);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private static void assertSchemaAtLatestVersion(Config.DatabaseConfig config) throws Exception {
        String table = config.namespace() + ".schema_version";
        assertEquals(Migrations.latestVersion(), TestDatabase.queryLong(config, "SELECT count(*) FROM " + table));
        assertEquals(Migrations.latestVersion(), TestDatabase.queryLong(config, "SELECT max(version) FROM " + table));
    }

    private static <T> List<T> concurrently(Callable<T> call) throws Exception {
        return concurrently(THREADS, call);
    }

    /** Runs {@code call} on {@code threads} threads released together; every wait is bounded. */
    private static <T> List<T> concurrently(int threads, Callable<T> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    assertTrue(go.await(10, TimeUnit.SECONDS));
                    return call.call();
                }));
            }
            assertTrue(ready.await(10, TimeUnit.SECONDS));
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    results.add(f.get(30, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    throw new AssertionError("a concurrent call failed", e.getCause());
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }
}
