package io.courier.store;

import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** The store contract on the PostgreSQL of COURIER_TEST_DATABASE_URL; skipped when that is unset. */
@EnabledIfEnvironmentVariable(named = "COURIER_TEST_DATABASE_URL", matches = ".*\\S.*")
class PostgresJdbcStoreTest extends JdbcStoreContract {
    PostgresJdbcStoreTest() {
        super(TestDatabase.postgres().orElseThrow());
    }
}
