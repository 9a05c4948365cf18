/**
 * Courier's entry point and assembly: {@link io.courier.Courier} parses the command line,
 * {@link io.courier.CourierServer} wires the parts with constructors and owns their lifecycle,
 * {@code ServerInitializer} is the one place the Netty pipeline is built.
 */
package io.courier;
