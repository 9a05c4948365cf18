package io.courier.hub;

/**
 * The event the hub fires on a connection it cut off to bring the server's unsent outbound bytes
 * back under {@code courier.ws.outbound.max.bytes} (see {@link OutboundBudget}); the session closes
 * it. Deliveries to it have already stopped.
 *
 * @param unsentBytes what the connection had not been able to send when it was chosen
 */
public record OutboundBudgetExceeded(long unsentBytes) {}
