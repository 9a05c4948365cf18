/**
 * Persistence of audiences and topics: the {@link io.courier.store.Store} contract, its one JDBC
 * implementation for embedded H2 and PostgreSQL ({@link io.courier.store.JdbcStore}), the versioned
 * schema migrations, and {@link io.courier.store.AsyncStore}, which moves calls onto worker threads.
 *
 * <p>{@code Store} is blocking and thread-safe: any thread except a Netty event loop.
 */
package io.courier.store;
