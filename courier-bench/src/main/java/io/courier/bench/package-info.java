/**
 * The load generator ({@link io.courier.bench.Load}): opens many WebSocket subscribers and one
 * publisher against a running Courier, or against a peer it is compared with (nats-server, Socket.IO:
 * {@link io.courier.bench.Target}), and reports fan-out throughput, latency and connection cost.
 * {@link io.courier.bench.CompareTable} turns the runs of {@code scripts/bench compare} into its table,
 * {@link io.courier.bench.CompareChart} the runs of several such comparisons into one bar chart.
 *
 * <p>Client and server usually share the machine, so every subscriber is kept cheap: after the
 * handshake its pipeline is one raw frame counter ({@link io.courier.bench.DeliveryDecoder}), with
 * no per-message frame objects. Threads: the main thread sets up and waits; subscriber channels live
 * on one event loop group, the publisher on a loop of its own.
 */
package io.courier.bench;
