package io.courier.hub;

/**
 * The event {@link Hub#stateLost} fires on the channel of every local subscriber of a history
 * topic that lost a message on its way to this node (a gap in the stream's sequence numbers).
 */
public record StateLost(String topic) {}
