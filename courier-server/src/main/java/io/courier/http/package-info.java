/**
 * The REST API: the router, one class per route group, JSON in and out with jackson-core, and the
 * one error body. Routes run on the event loop and hand database work to
 * {@link io.courier.store.AsyncStore}; answers may be written from its worker threads.
 */
package io.courier.http;
