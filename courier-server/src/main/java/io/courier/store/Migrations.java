package io.courier.store;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the namespace's tables up to date, one numbered step at a time, recording each applied step
 * in {@code schema_version}. Steps are append-only: a released step is never edited, a change is a new step.
 *
 * <p>Hazard: two servers may start at once against one PostgreSQL. The whole run holds a
 * transaction-scoped advisory lock, so the second waits, then finds the steps done; PostgreSQL DDL is
 * transactional, so a failed run leaves nothing half-applied. H2 commits each DDL statement on its
 * own, hence {@code IF NOT EXISTS} in every step; its file mode admits one process, so a lock in this
 * JVM stands in for the advisory lock.
 */
final class Migrations {
    private static final Logger log = LoggerFactory.getLogger(Migrations.class);

    /** First key of the advisory lock, so Courier's lock doesn't collide with other applications' locks. */
    private static final int LOCK_CLASS = "io.courier.store.Migrations".hashCode();

    private static final Object H2_LOCK = new Object();

    private record Step(int version, String description, List<String> statements) {}

    // Append only. "{ns}" stands for the namespace. Names are varchar(255): topic names are capped at
    // 255 characters by the API, and a unique index on an unbounded text column is not portable to H2.
    private static final List<Step> STEPS = List.of(
            new Step(1, "create audiences and topics", List.of("""
                    CREATE TABLE IF NOT EXISTS {ns}.audiences (
                        id uuid NOT NULL PRIMARY KEY,
                        name varchar(255) NOT NULL,
                        created_at timestamp(6) with time zone NOT NULL,
                        updated_at timestamp(6) with time zone NOT NULL,
                        CONSTRAINT audiences_name_key UNIQUE (name))""", """
                    CREATE TABLE IF NOT EXISTS {ns}.topics (
                        id uuid NOT NULL PRIMARY KEY,
                        audience_id uuid NOT NULL REFERENCES {ns}.audiences (id),
                        name varchar(255) NOT NULL,
                        created_at timestamp(6) with time zone NOT NULL,
                        updated_at timestamp(6) with time zone NOT NULL,
                        CONSTRAINT topics_audience_name_key UNIQUE (audience_id, name))""")),
            // The API counts characters as code points; H2 counts varchar length in UTF-16 units, so
            // 255 characters outside the BMP need 510. PostgreSQL counts code points; widening is harmless.
            new Step(
                    2,
                    "widen names for characters outside the BMP",
                    List.of(
                            "ALTER TABLE {ns}.audiences ALTER COLUMN name SET DATA TYPE varchar(1020)",
                            "ALTER TABLE {ns}.topics ALTER COLUMN name SET DATA TYPE varchar(1020)")),
            // Topics that existed before keep no history (0, 0): they behave exactly as they did.
            new Step(
                    3,
                    "history settings per topic",
                    List.of(
                            "ALTER TABLE {ns}.topics ADD COLUMN IF NOT EXISTS history_size integer DEFAULT 0 NOT NULL",
                            "ALTER TABLE {ns}.topics ADD COLUMN IF NOT EXISTS history_ttl_seconds integer DEFAULT 0 NOT NULL")));

    private final Dialect dialect;
    private final String namespace;

    Migrations(Dialect dialect, String namespace) {
        this.dialect = dialect;
        this.namespace = namespace;
    }

    /** The latest step's version: what a fully migrated namespace records. */
    static int latestVersion() {
        return STEPS.get(STEPS.size() - 1).version();
    }

    /** Applies the missing steps in one transaction; on failure rolls back and rethrows. */
    void run(Connection c) throws SQLException {
        if (dialect == Dialect.H2) {
            // H2's file mode admits one process, so a lock in this JVM serializes its migrations as
            // the advisory lock does for PostgreSQL (it matters when two stores open one file).
            synchronized (H2_LOCK) {
                runInTransaction(c);
            }
        } else {
            runInTransaction(c);
        }
    }

    private void runInTransaction(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            if (dialect == Dialect.POSTGRESQL) {
                // Released at commit or rollback, and by the server if this connection dies.
                try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
                    lock.setInt(1, LOCK_CLASS);
                    lock.setInt(2, namespace.toLowerCase(Locale.ROOT).hashCode());
                    lock.execute();
                }
            }
            applyMissing(c);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private void applyMissing(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            // Checked first rather than relying on IF NOT EXISTS alone: PostgreSQL demands CREATE
            // privilege even when the object exists, and an operator may pre-create the schema and
            // grant us less.
            if (!schemaExists(c.getMetaData())) {
                log.info("Creating schema {}", namespace);
                st.execute("CREATE SCHEMA IF NOT EXISTS " + namespace);
            }
            if (!tableExists(c.getMetaData(), "schema_version")) {
                st.execute(sql("""
                        CREATE TABLE IF NOT EXISTS {ns}.schema_version (
                            version integer NOT NULL PRIMARY KEY,
                            description varchar(255) NOT NULL,
                            applied_at timestamp(6) with time zone NOT NULL)"""));
            }
            int current;
            try (ResultSet rs = st.executeQuery(sql("SELECT max(version) FROM {ns}.schema_version"))) {
                rs.next();
                current = rs.getInt(1); // 0 when the table is empty
            }
            if (current >= latestVersion()) {
                log.info("Schema {} is at version {}, up to date", namespace, current);
                return;
            }
            for (Step step : STEPS) {
                if (step.version() > current) {
                    apply(c, st, step);
                }
            }
        }
    }

    private void apply(Connection c, Statement st, Step step) throws SQLException {
        log.info("Migrating schema {} to version {}: {}", namespace, step.version(), step.description());
        for (String statement : step.statements()) {
            st.execute(sql(statement));
        }
        try (PreparedStatement record = c.prepareStatement(
                sql("INSERT INTO {ns}.schema_version (version, description, applied_at) VALUES (?, ?, ?)"))) {
            record.setInt(1, step.version());
            record.setString(2, step.description());
            record.setObject(3, OffsetDateTime.ofInstant(Instant.now().truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
            record.executeUpdate();
        }
    }

    private boolean schemaExists(DatabaseMetaData meta) throws SQLException {
        String name = storedCase(meta, namespace);
        // The argument is a LIKE pattern in which "_" matches any character, so compare exactly.
        try (ResultSet rs = meta.getSchemas(null, name)) {
            while (rs.next()) {
                if (rs.getString("TABLE_SCHEM").equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean tableExists(DatabaseMetaData meta, String table) throws SQLException {
        String schema = storedCase(meta, namespace);
        String name = storedCase(meta, table);
        try (ResultSet rs = meta.getTables(null, schema, name, null)) {
            while (rs.next()) {
                if (rs.getString("TABLE_SCHEM").equals(schema)
                        && rs.getString("TABLE_NAME").equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Unquoted identifiers are stored upper-case by H2 and lower-case by PostgreSQL. */
    private static String storedCase(DatabaseMetaData meta, String identifier) throws SQLException {
        if (meta.storesUpperCaseIdentifiers()) {
            return identifier.toUpperCase(Locale.ROOT);
        }
        return meta.storesLowerCaseIdentifiers() ? identifier.toLowerCase(Locale.ROOT) : identifier;
    }

    private String sql(String template) {
        return template.replace("{ns}", namespace);
    }
}
