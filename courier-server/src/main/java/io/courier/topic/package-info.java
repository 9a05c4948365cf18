/**
 * Topics as one service: {@link io.courier.topic.Topics} keeps the store's records and the
 * in-memory {@link io.courier.topic.Catalog} in step and answers the hub's
 * {@link io.courier.hub.KnownTopics} question. Lookups from any thread, lock-free; creations and
 * loads complete on the store's worker threads.
 */
package io.courier.topic;
