/**
 * The typed names of the pipeline's stages, shared by the assembler ({@code ServerInitializer},
 * {@code CourierServer}) and the WebSocket upgrade, which rebuilds the pipeline; and the client address
 * a connection carries ({@link io.courier.pipeline.ClientAddress}). Depends on nothing else in Courier.
 * Any thread.
 */
package io.courier.pipeline;
