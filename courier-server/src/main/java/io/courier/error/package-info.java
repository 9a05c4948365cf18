/**
 * The error vocabulary shared by HTTP and WebSocket: {@link io.courier.error.ErrorCode} with its HTTP
 * status, {@link io.courier.error.CloseCode} for the failures that end a socket, and the cheap
 * {@link io.courier.error.CourierException} that carries a code. Immutable; any thread.
 */
package io.courier.error;
