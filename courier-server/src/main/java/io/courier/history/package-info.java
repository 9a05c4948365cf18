/**
 * Topic history and gap-free recovery on a single node: a bounded in-memory {@link
 * io.courier.history.Ring} per history topic that assigns consecutive offsets, keeps the encoded
 * frames for replay, and subscribes a recovering client atomically with the snapshot it replays;
 * {@link io.courier.history.Histories} owns the rings, the epoch of this start and the server-wide
 * memory budget. Publishes from any thread (a ring's lock serializes its topic: offset, append and
 * fan-out hand-off together, never I/O); subscribes on the subscriber's event loop; the sweep on
 * the background thread. Knows topics only through the hub's {@link io.courier.hub.KnownTopics}.
 */
package io.courier.history;
