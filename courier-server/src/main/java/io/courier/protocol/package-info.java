/**
 * The JSON message protocol shared by WebSocket frames and the hook: decoding client requests
 * ({@link io.courier.protocol.Command}) and encoding the server's own replies. Stateless; any thread.
 */
package io.courier.protocol;
