package io.courier.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Store} on JDBC behind a HikariCP pool, one code path for embedded H2 and PostgreSQL.
 *
 * <p>The database may be down when the server starts: {@link #open} then logs a warning and returns,
 * and the migrations run on the first call that gets a connection. Each call borrows a connection for
 * at most the configured timeout, so an outage costs callers {@code EDB_UNAVAILABLE} after about that
 * long, never a hung worker; the pool reconnects by itself when the database returns.
 *
 * <p>Uniqueness is the database's job (unique constraints), never a check-then-insert in memory,
 * so it holds across threads and across servers sharing one PostgreSQL.
 */
public final class JdbcStore implements Store {
    private static final Logger log = LoggerFactory.getLogger(JdbcStore.class);

    /** Both PostgreSQL and H2 report a unique-constraint violation with this SQLSTATE. */
    private static final String UNIQUE_VIOLATION = "23505";

    private final HikariDataSource pool;
    private final String description;
    private final Migrations migrations;
    private final long timeoutMillis;
    private final ReentrantLock migrationLock = new ReentrantLock();
    private volatile boolean migrated;
    /** Whether the last call reached the database; logs one line per outage instead of one per call. */
    private final AtomicBoolean reachable = new AtomicBoolean(true);

    private final String selectAudience;
    private final String insertAudience;
    private final String insertTopic;
    private final String selectTopicsOfAudience;
    private final String selectAllTopics;
    private final String selectTopic;

    private JdbcStore(HikariDataSource pool, Dialect dialect, Config.DatabaseConfig config) {
        this.pool = pool;
        this.description = dialect.describe(config.jdbcUrl());
        this.migrations = new Migrations(dialect, config.namespace());
        this.timeoutMillis = config.timeout().toMillis();
        String ns = config.namespace();
        this.selectAudience = "SELECT id, name, created_at, updated_at FROM " + ns + ".audiences WHERE name = ?";
        this.insertAudience = "INSERT INTO " + ns + ".audiences (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)";
        this.insertTopic = "INSERT INTO " + ns + ".topics (id, audience_id, name, created_at, updated_at, history_size,"
                + " history_ttl_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)";
        // The left join tells "no such audience" (no row) from "no topics yet" (one row of nulls) in one round trip.
        this.selectTopicsOfAudience =
                "SELECT a.id, a.name, t.id, t.name, t.created_at, t.updated_at, t.history_size, t.history_ttl_seconds FROM "
                        + ns
                        + ".audiences a" + " LEFT JOIN " + ns
                        + ".topics t ON t.audience_id = a.id WHERE a.name = ? ORDER BY t.created_at, t.name";
        this.selectAllTopics =
                "SELECT a.id, a.name, t.id, t.name, t.created_at, t.updated_at, t.history_size, t.history_ttl_seconds FROM "
                        + ns + ".topics t" + " JOIN " + ns
                        + ".audiences a ON a.id = t.audience_id ORDER BY a.name, t.created_at, t.name";
        this.selectTopic =
                "SELECT a.id, a.name, t.id, t.name, t.created_at, t.updated_at, t.history_size, t.history_ttl_seconds FROM "
                        + ns + ".topics t" + " JOIN " + ns
                        + ".audiences a ON a.id = t.audience_id WHERE a.name = ? AND t.name = ?";
    }

    /**
     * Starts the pool and migrates the schema if the database is reachable; if it isn't, logs a
     * warning and returns anyway (migrations then run on first use).
     *
     * @param registry where the pool publishes its metrics; null for none
     */
    public static JdbcStore open(Config.DatabaseConfig config, MeterRegistry registry) {
        Dialect dialect = Dialect.of(config.jdbcUrl());
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("courier-db");
        hikari.setJdbcUrl(config.jdbcUrl());
        if (!config.user().isEmpty()) {
            hikari.setUsername(config.user());
        }
        if (!config.password().isEmpty()) {
            hikari.setPassword(config.password());
        }
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setConnectionTimeout(config.timeout().toMillis());
        hikari.setValidationTimeout(config.timeout().toMillis());
        // Negative: start without a connection and keep trying in the background, so a database
        // that is down at startup doesn't stop the server.
        hikari.setInitializationFailTimeout(-1);
        if (dialect == Dialect.POSTGRESQL) {
            // pgjdbc counts whole seconds; parameters in the URL take precedence over these.
            String seconds = Long.toString(Math.max(1, (config.timeout().toMillis() + 999) / 1000));
            hikari.addDataSourceProperty("connectTimeout", seconds);
            hikari.addDataSourceProperty("loginTimeout", seconds);
            // A read that waits this long means a hung server or network: drop the connection
            // rather than hold a worker forever. Courier's queries answer in milliseconds.
            hikari.addDataSourceProperty("socketTimeout", seconds);
            hikari.addDataSourceProperty("ApplicationName", "courier");
        }
        if (registry != null) {
            hikari.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        }
        JdbcStore store = new JdbcStore(new HikariDataSource(hikari), dialect, config);
        log.info("Database {}, schema {}", store.description, config.namespace());
        try {
            store.withConnection(c -> null); // migrates
        } catch (CourierException e) {
            log.warn("Database {} unavailable at startup; will migrate on first use", store.description);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /** Where the data lives, for the startup log; never contains a password. */
    public String describe() {
        return description;
    }

    @Override
    public Created<Audience> createAudience(String name) {
        Objects.requireNonNull(name, "name");
        return withConnection(c -> {
            // Look first: repeats are the common case, and a failed insert costs an error round trip.
            Optional<Audience> existing = selectAudience(c, name);
            if (existing.isPresent()) {
                return new Created<>(existing.get(), false);
            }
            Instant now = now();
            Audience audience = new Audience(UUID.randomUUID(), name, now, now);
            try (PreparedStatement ps = c.prepareStatement(insertAudience)) {
                ps.setObject(1, audience.id());
                ps.setString(2, name);
                ps.setObject(3, utc(now));
                ps.setObject(4, utc(now));
                ps.executeUpdate();
            } catch (SQLException e) {
                if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                }
                // A concurrent call inserted it first; the database made us wait for its commit, so we can read it.
                return new Created<>(
                        selectAudience(c, name)
                                .orElseThrow(() -> new IllegalStateException(
                                        "audience '" + name + "' conflicted on insert but is not readable")),
                        false);
            }
            return new Created<>(audience, true);
        });
    }

    @Override
    public Optional<Audience> findAudience(String name) {
        Objects.requireNonNull(name, "name");
        return withConnection(c -> selectAudience(c, name));
    }

    @Override
    public Topic createTopic(String audience, String topic, HistorySettings history) {
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(history, "history");
        return withConnection(c -> {
            Audience owner = selectAudience(c, audience).orElseThrow(() -> audienceNotFound(audience));
            Instant now = now();
            Topic created = new Topic(UUID.randomUUID(), topic, owner.id(), owner.name(), now, now, history);
            try (PreparedStatement ps = c.prepareStatement(insertTopic)) {
                ps.setObject(1, created.id());
                ps.setObject(2, owner.id());
                ps.setString(3, topic);
                ps.setObject(4, utc(now));
                ps.setObject(5, utc(now));
                ps.setInt(6, history.size());
                ps.setInt(7, history.ttlSeconds());
                ps.executeUpdate();
            } catch (SQLException e) {
                if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw new CourierException(
                            ErrorCode.ETOPIC_EXISTS,
                            "topic '" + topic + "' already exists in audience '" + audience + "'");
                }
                throw e;
            }
            return created;
        });
    }

    @Override
    public List<Topic> listTopics(String audience) {
        Objects.requireNonNull(audience, "audience");
        return withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(selectTopicsOfAudience)) {
                ps.setString(1, audience);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw audienceNotFound(audience);
                    }
                    List<Topic> topics = new ArrayList<>();
                    do {
                        if (rs.getObject(3) != null) {
                            topics.add(topic(rs));
                        }
                    } while (rs.next());
                    return topics;
                }
            }
        });
    }

    @Override
    public Optional<Topic> findTopic(String audience, String topic) {
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(topic, "topic");
        return withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(selectTopic)) {
                ps.setString(1, audience);
                ps.setString(2, topic);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(topic(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<Topic> allTopics() {
        return withConnection(c -> {
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(selectAllTopics)) {
                List<Topic> topics = new ArrayList<>();
                while (rs.next()) {
                    topics.add(topic(rs));
                }
                return topics;
            }
        });
    }

    /** Also runs the migrations if they haven't run yet, so "ready" means every method can work. */
    @Override
    public boolean isReady() {
        try {
            return withConnection(c -> {
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                    return true;
                }
            });
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    // ---------------------------------------------------------------- connections and failures

    @FunctionalInterface
    private interface Work<T> {
        T apply(Connection c) throws SQLException;
    }

    private <T> T withConnection(Work<T> work) {
        Connection c;
        try {
            c = pool.getConnection();
        } catch (SQLException e) {
            throw translate(e);
        }
        try (c) {
            if (!migrated) {
                migrate(c);
            }
            if (reachable.compareAndSet(false, true)) {
                log.info("Database {} reachable again", description);
            }
            return work.apply(c);
        } catch (SQLException e) {
            RuntimeException failure = translate(e);
            if (failure instanceof CourierException) {
                // Not our SQL's fault, so the connection itself may be broken. H2's server mode says
                // so with its own error codes, which Hikari does not recognise as fatal: without this,
                // the pool keeps handing out dead connections after the network comes back.
                pool.evictConnection(c);
            }
            throw failure;
        }
    }

    /** Runs the migrations once per store, on whichever call first gets a connection. */
    private void migrate(Connection c) throws SQLException {
        try {
            if (!migrationLock.tryLock(timeoutMillis, TimeUnit.MILLISECONDS)) {
                throw new CourierException(ErrorCode.EDB_UNAVAILABLE, "database migrations still running, retry later");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CourierException(ErrorCode.EDB_UNAVAILABLE, "interrupted while waiting for database migrations");
        }
        try {
            if (!migrated) {
                migrations.run(c);
                migrated = true;
            }
        } finally {
            migrationLock.unlock();
        }
    }

    /**
     * SQLSTATE classes 42 (syntax, missing object, privilege), 22 (data), 23 (unexpected constraint)
     * and 0A (unsupported feature) mean our SQL or schema is wrong: retrying won't help. Everything
     * else, above all class 08 and Hikari's timeout, means the database is out of reach for now.
     */
    private RuntimeException translate(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("42") || state.startsWith("22") || state.startsWith("23") || state.startsWith("0A")) {
            return new IllegalStateException("database " + description + " rejected a statement: " + e.getMessage(), e);
        }
        if (reachable.compareAndSet(true, false)) {
            log.warn("Database {} unavailable: {}", description, rootMessage(e));
        }
        return new CourierException(ErrorCode.EDB_UNAVAILABLE, "database unavailable, retry later", e);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.toString() : e.getMessage() + " (" + root + ")";
    }

    // ---------------------------------------------------------------- rows

    private Optional<Audience> selectAudience(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(selectAudience)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(
                        new Audience(rs.getObject(1, UUID.class), rs.getString(2), instant(rs, 3), instant(rs, 4)));
            }
        }
    }

    /**
     * Reads a row of {@code a.id, a.name, t.id, t.name, t.created_at, t.updated_at, t.history_size,
     * t.history_ttl_seconds}.
     */
    private static Topic topic(ResultSet rs) throws SQLException {
        int historySize = rs.getInt(7);
        return new Topic(
                rs.getObject(3, UUID.class),
                rs.getString(4),
                rs.getObject(1, UUID.class),
                rs.getString(2),
                instant(rs, 5),
                instant(rs, 6),
                historySize == 0 ? HistorySettings.NONE : new HistorySettings(historySize, rs.getInt(8)));
    }

    private static CourierException audienceNotFound(String audience) {
        return new CourierException(ErrorCode.EAUD_NOTFOUND, "audience '" + audience + "' not found");
    }

    /** Microseconds: what both databases store, so a value read back equals the one we returned. */
    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    private static OffsetDateTime utc(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }
}
