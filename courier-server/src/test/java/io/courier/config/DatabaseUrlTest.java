package io.courier.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DatabaseUrlTest {
    private static final String KEY = "courier.database.url";

    @Test
    void postgresUriBecomesJdbcUrlWithCredentials() {
        DatabaseUrl url = DatabaseUrl.parse(KEY, "postgres://alice:s3cret@db.example:6543/courier?sslmode=disable");

        assertEquals(
                new DatabaseUrl("jdbc:postgresql://db.example:6543/courier?sslmode=disable", "alice", "s3cret"), url);
    }

    @Test
    void postgresqlSchemeDefaultsToPort5432() {
        DatabaseUrl url = DatabaseUrl.parse(KEY, "postgresql://alice@db.example/courier");

        assertEquals(new DatabaseUrl("jdbc:postgresql://db.example:5432/courier", "alice", ""), url);
    }

    @Test
    void encodedPasswordIsDecoded() {
        DatabaseUrl url = DatabaseUrl.parse(KEY, "postgres://alice:p%40ss%3Aw%2Fd%25@db.example:5432/courier");

        assertEquals("p@ss:w/d%", url.password());
        assertEquals("jdbc:postgresql://db.example:5432/courier", url.jdbcUrl());
    }

    @Test
    void plusInPasswordIsLiteral() {
        assertEquals(
                "a+b",
                DatabaseUrl.parse(KEY, "postgres://alice:a+b@db.example/courier")
                        .password());
    }

    @Test
    void jdbcUrlsPassThroughWithoutCredentials() {
        assertEquals(
                new DatabaseUrl("jdbc:postgresql://h:5432/db?user=u", "", ""),
                DatabaseUrl.parse(KEY, "jdbc:postgresql://h:5432/db?user=u"));
        assertEquals(new DatabaseUrl("jdbc:h2:file:/tmp/c", "", ""), DatabaseUrl.parse(KEY, "jdbc:h2:file:/tmp/c"));
    }

    @Test
    void missingDatabaseNameIsConfigError() {
        for (String url :
                new String[] {"postgres://alice:s3cret@db.example:5432/", "postgres://alice:s3cret@db.example:5432"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> DatabaseUrl.parse(KEY, url));
            assertTrue(e.getMessage().startsWith(KEY + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("no database name"), e.getMessage());
            assertTrue(!e.getMessage().contains("s3cret"), "message must not echo the password: " + e.getMessage());
        }
    }

    @Test
    void missingHostIsConfigError() {
        ConfigException e = assertThrows(ConfigException.class, () -> DatabaseUrl.parse(KEY, "postgres:///courier"));
        assertTrue(e.getMessage().contains("no host"), e.getMessage());
    }

    @Test
    void unsupportedSchemeIsConfigError() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> DatabaseUrl.parse(KEY, "mysql://alice@db.example/courier"));
        assertTrue(e.getMessage().startsWith(KEY + ": unsupported database URL"), e.getMessage());
    }

    @Test
    void redactHidesPassword() {
        assertEquals(
                "jdbc:postgresql://h/db?user=u&password=****&ssl=true",
                DatabaseUrl.redact("jdbc:postgresql://h/db?user=u&password=s3cret&ssl=true"));
    }
}
