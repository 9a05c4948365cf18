/**
 * JSON reading and writing with jackson-core streaming, shared by the REST API ({@code http}), the
 * socket protocol ({@code protocol}) and the error bodies ({@code error}): the one bounded factory
 * and the buffer writer. Depends on nothing else in Courier. Stateless; any thread.
 */
package io.courier.json;
