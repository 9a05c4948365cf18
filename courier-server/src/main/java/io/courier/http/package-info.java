/**
 * The REST API: the router, one class per route group, the request gate, body budget and deadlines
 * in front of them. JSON goes in and out through {@code io.courier.json}; refusals use the one error
 * body of {@code io.courier.error}. Routes run on the event loop and hand database work to
 * {@link io.courier.store.AsyncStore} or the {@code io.courier.topic} service; answers may be
 * written from its worker threads. {@link io.courier.http.StaticRoutes} serves courier.js and the
 * console from bytes read at startup, so no file is touched on the event loop.
 */
package io.courier.http;
