/**
 * WebSocket connections: the guarded upgrade at {@code /ws} and the per-connection session that
 * turns client frames into hub operations. Everything here runs on the connection's event loop.
 */
package io.courier.ws;
