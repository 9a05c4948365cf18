package io.courier.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL the integration tests may use: the JDBC URL in {@code COURIER_TEST_DATABASE_URL}
 * (CI sets {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}). Tests that need it skip
 * when it is unset. Each test takes a random namespace (schema) and drops it afterwards, so runs
 * never collide.
 */
public final class TestPostgres {
    public static final String ENV = "COURIER_TEST_DATABASE_URL";

    private TestPostgres() {}

    /** The configured JDBC URL, or empty when PostgreSQL tests are off. */
    public static Optional<String> url() {
        String url = System.getenv(ENV);
        return url == null || url.isBlank() ? Optional.empty() : Optional.of(url.strip());
    }

    /** Why a PostgreSQL test is skipped, for {@code assumeTrue}. */
    public static String skipReason() {
        return ENV + " is not set (e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres); PostgreSQL tests skipped";
    }

    /** A schema name no other test uses: {@code prefix} plus 12 random hex digits. */
    public static String freshNamespace(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    /** Drops {@code namespace} and everything in it; a no-op when it does not exist. */
    public static void drop(String namespace) {
        if (url().isEmpty() || !namespace.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            return;
        }
        try (Connection c = DriverManager.getConnection(url().get());
                Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + namespace + " CASCADE");
        } catch (SQLException e) {
            throw new AssertionError("cannot drop schema " + namespace, e);
        }
    }

    /** The configured URL's port (5432 when it names none), e.g. for a {@link TcpProxy} in front of it. */
    public static int port() {
        String url = url().orElseThrow(() -> new IllegalStateException(skipReason()));
        Matcher m = Pattern.compile("^jdbc:postgresql://[^/:]+:(\\d+)/").matcher(url);
        return m.find() ? Integer.parseInt(m.group(1)) : 5432;
    }

    /**
     * The configured URL with its host and port replaced, e.g. to go through a proxy:
     * {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres} → {@code jdbc:postgresql://127.0.0.1:PORT/test?user=postgres}.
     */
    public static String viaPort(int port) {
        String url = url().orElseThrow(() -> new IllegalStateException(skipReason()));
        return url.replaceFirst("^jdbc:postgresql://[^/]*/", "jdbc:postgresql://127.0.0.1:" + port + "/");
    }
}
