/** Logging helpers shared by the packages that speak to clients. Any thread. */
package io.courier.logging;
