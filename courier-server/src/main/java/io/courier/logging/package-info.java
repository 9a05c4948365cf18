/**
 * Logging helpers shared by the packages that speak to clients, and the two line formats the
 * production {@code logback.xml} uses ({@link io.courier.logging.LogfmtLayout},
 * {@link io.courier.logging.JsonLineEncoder}), which escape every client-controlled value so that one
 * event is one line. Any thread.
 */
package io.courier.logging;
