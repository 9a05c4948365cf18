package io.courier.hub;

/** Told how many frames each fan-out batch handed to connections. Called on event loops; must be cheap. */
@FunctionalInterface
public interface FanoutListener {
    FanoutListener NONE = deliveries -> { };

    void delivered(long deliveries);
}
