/**
 * Meters and binders: {@link io.courier.metrics.CourierMetrics} owns the Prometheus registry and
 * every Courier meter; the JVM, process, Netty allocator and HikariCP pool are bound through
 * Micrometer's and Hikari's own binders. Gauges read suppliers the assembler hands in, so this
 * package knows no hub or topic class. Recording is lock-free from any thread.
 */
package io.courier.metrics;
