/**
 * JMH guards for the hot path: fan-out through the real {@link io.courier.hub.Hub}, frame decoding
 * and encoding, registry churn under publishing, and per-handshake authentication. Every benchmark
 * drives the production classes through their public API; nothing here copies server code.
 *
 * <p>Run them with {@code scripts/bench jmh [pattern] [--quick|--full]}, which builds
 * {@code courier-bench/target/benchmarks.jar} (main class {@code org.openjdk.jmh.Main}) and adds the
 * GC profiler, so every result carries {@code gc.alloc.rate.norm}. Threads: the JMH threads publish
 * and wait; the hub's subscribers live on real Netty event loops ({@link HubFixture}).
 */
package io.courier.bench.jmh;
