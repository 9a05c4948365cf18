/**
 * The cluster: fan-out between Courier nodes over core NATS. {@link io.courier.cluster.Broker}
 * states the contract; {@link io.courier.cluster.NatsBroker} keeps it with one NATS connection per
 * node, one subject per audience and topic ({@link io.courier.cluster.Subjects}), subscribed only
 * while the node has local subscribers. Built only when a NATS URL is configured; a single node
 * never loads a class of this package.
 *
 * <p>Threads: publish, join, leave, connected and disconnected from any thread (event loops) and
 * never blocking; subscribing, unsubscribing, flushing and connection events on the one
 * {@code courier-cluster} thread; messages from NATS on jnats's dispatcher thread, which hands each
 * to the hub (and so to the event loops) without waiting.
 */
package io.courier.cluster;
