package io.courier.http;

/**
 * Answers one method on one path. Called on the event loop: read the request, hand blocking work
 * to the {@link io.courier.store.AsyncStore}, and answer the {@link Exchange} exactly once.
 */
@FunctionalInterface
public interface Route {
    void handle(Exchange exchange);
}
