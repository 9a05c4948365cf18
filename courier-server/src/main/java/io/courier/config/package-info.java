/**
 * Configuration: the immutable {@link io.courier.config.Config} record and the loader that merges
 * built-in defaults, the {@code --config} file and {@code COURIER_*} environment variables and
 * validates them once at startup. Read-only after startup; any thread.
 */
package io.courier.config;
