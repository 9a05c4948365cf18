package io.courier.store;

/** The store contract on embedded H2, which every run has. */
class H2JdbcStoreTest extends JdbcStoreContract {
    H2JdbcStoreTest() {
        super(TestDatabase.h2());
    }
}
