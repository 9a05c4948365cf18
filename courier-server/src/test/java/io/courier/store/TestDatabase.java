package io.courier.store;

import io.courier.config.Config;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A database the store tests run against: embedded H2 in a temporary directory always, and the
 * PostgreSQL named by {@code COURIER_TEST_DATABASE_URL} (a JDBC URL) when that is set. On PostgreSQL
 * every namespace is random and dropped by {@link #dropNamespaces()}, so runs never collide.
 */
record TestDatabase(String name, String postgresUrl) {
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final Queue<String> created = new ConcurrentLinkedQueue<>();

    static TestDatabase h2() {
        return new TestDatabase("h2", null);
    }

    /** The PostgreSQL of {@code COURIER_TEST_DATABASE_URL}, when that is set. */
    static Optional<TestDatabase> postgres() {
        String url = System.getenv("COURIER_TEST_DATABASE_URL");
        return url == null || url.isBlank() ? Optional.empty() : Optional.of(new TestDatabase("postgresql", url));
    }

    boolean isPostgres() {
        return postgresUrl != null;
    }

    /** A namespace no other test uses: on H2 the directory is fresh, on PostgreSQL the name is. */
    String freshNamespace() {
        if (!isPostgres()) {
            return "courier";
        }
        String namespace =
                "courier_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        created.add(namespace);
        return namespace;
    }

    /** @param h2Dir where H2 keeps its file; ignored on PostgreSQL */
    Config.DatabaseConfig config(Path h2Dir, String namespace) {
        if (isPostgres()) {
            return new Config.DatabaseConfig(postgresUrl, "", "", false, namespace, 8, TIMEOUT);
        }
        String url = "jdbc:h2:file:" + h2Dir.resolve("courier") + ";DB_CLOSE_ON_EXIT=FALSE";
        return new Config.DatabaseConfig(url, "sa", "", true, namespace, 8, TIMEOUT);
    }

    /** Runs one query outside the store, e.g. to inspect {@code schema_version}; returns the first column of the first row. */
    static long queryLong(Config.DatabaseConfig config, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Runs statements outside the store, e.g. to build a schema as an older release left it. */
    static void execute(Config.DatabaseConfig config, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
                Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    static void dropNamespaces() throws SQLException {
        String url = System.getenv("COURIER_TEST_DATABASE_URL");
        if (url == null || url.isBlank()) {
            return;
        }
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement()) {
            for (String namespace; (namespace = created.poll()) != null; ) {
                st.execute("DROP SCHEMA IF EXISTS " + namespace + " CASCADE");
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
