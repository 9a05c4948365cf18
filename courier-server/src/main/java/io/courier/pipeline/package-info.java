/**
 * The typed names of the pipeline's stages, shared by the assembler ({@code ServerInitializer},
 * {@code CourierServer}) and the WebSocket upgrade, which rebuilds the pipeline. Depends on nothing
 * else in Courier. Immutable; any thread.
 */
package io.courier.pipeline;
