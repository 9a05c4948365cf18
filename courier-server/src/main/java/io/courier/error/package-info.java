/**
 * The error vocabulary shared by HTTP and WebSocket: {@link io.courier.error.ErrorCode} with its HTTP
 * status, {@link io.courier.error.CloseCode} for the closes that end a socket (with their metric
 * labels), the cheap {@link io.courier.error.CourierException} that carries a code, and
 * {@link io.courier.error.HttpErrors}, the one error body every HTTP refusal uses (REST routes, the
 * request gate and the WebSocket upgrade alike). Immutable; any thread.
 */
package io.courier.error;
