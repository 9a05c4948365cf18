/**
 * The fan-out: which connection receives which message, and the per-event-loop batching that
 * writes a message, encoded once, to all of them. {@link io.courier.hub.Hub} is the entry point;
 * publishing is lock-free from any thread, membership changes run on the member's event loop.
 * Which topics exist is asked through {@link io.courier.hub.KnownTopics}; the hub knows no store.
 */
package io.courier.hub;
